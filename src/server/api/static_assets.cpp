#include "server/api/static_assets.hpp"

#include <stdexcept>
#include <utility>

#include "server/api/api.hpp"

namespace ortformers::server {

namespace {
// 'unsafe-inline': the pages are single files; everything else is closed, so nothing can be fetched from elsewhere.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
constexpr std::string_view kHtml = "text/html; charset=utf-8";
}  // namespace

std::optional<StaticAsset> static_asset(std::string_view path) {
  if (path == "/" || path == "/playground") return StaticAsset{kHtml, embedded_page("index.html"), kPagePolicy};
  if (path == "/docs") return StaticAsset{kHtml, embedded_page("docs.html"), kPagePolicy};
  if (path == "/openapi.json") return StaticAsset{"application/json", embedded_page("openapi.json"), {}};
  return std::nullopt;
}

Route page_route(std::string path) {
  const auto asset = static_asset(path);
  if (!asset) throw std::logic_error("page_route: no page at " + path);
  return Route{"GET", std::move(path), "static", [asset = *asset](Api& api, const CallPtr& call) {
                 http::Response r;
                 r.content_type = asset.content_type;
                 r.body = asset.body;
                 r.headers.emplace_back("Cache-Control", "no-cache");
                 r.headers.emplace_back("X-Content-Type-Options", "nosniff");
                 if (!asset.content_security_policy.empty())
                   r.headers.emplace_back("Content-Security-Policy", asset.content_security_policy);
                 api.respond(call, std::move(r));
               }};
}

}  // namespace ortformers::server
