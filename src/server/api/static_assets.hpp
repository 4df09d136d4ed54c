#pragma once
// The pages the server serves itself: the playground (GET / and /playground), the API docs (GET /docs) and the
// OpenAPI description they render (GET /openapi.json). Built from web/playground/ by cmake/EmbedPage.cmake into the
// binary: no file is read at run time and the pages load nothing from the network.
#include <optional>
#include <string>
#include <string_view>

namespace ortformers::server {

struct StaticAsset {
  std::string_view content_type;
  std::string_view body;
  // Content-Security-Policy for the page: inline script and style only, requests to this server only.
  std::string_view content_security_policy;
};

// The asset for a GET path (without query string), or nullopt when the path is not one of the pages.
std::optional<StaticAsset> static_asset(std::string_view path);

struct Route;
// The GET route of a page path (one of static_asset's), sent with its Content-Security-Policy; one line each in the
// route table (default_routes).
Route page_route(std::string path);

// Generated from web/playground/ (index.html, docs.html, openapi.json); empty for another name.
std::string_view embedded_page(std::string_view name);

}  // namespace ortformers::server
