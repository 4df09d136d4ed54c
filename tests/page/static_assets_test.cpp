// The pages compiled into the server (cmake/EmbedPage.cmake): each is one file that loads nothing from elsewhere.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ortformers/core/json.hpp"
#include "server/api/static_assets.hpp"

namespace fs = std::filesystem;
using ortformers::Json;
using ortformers::server::static_asset;

namespace {

std::string source_file(const std::string& name) {
  std::ifstream in(fs::path(ORTFORMERS_SOURCE_DIR) / "web" / "playground" / name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void expect_self_contained(const std::string& html) {
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_EQ(html.find("<link rel=\"stylesheet\""), std::string::npos) << "style sheet not inlined";
  EXPECT_EQ(html.find("<script src="), std::string::npos) << "script not inlined";
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("url(http"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
}

}  // namespace

TEST(StaticAssets, PlaygroundIsOneSelfContainedPage) {
  const auto page = static_asset("/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  const std::string html(page->body);
  expect_self_contained(html);
  EXPECT_NE(html.find(source_file("app.js")), std::string::npos) << "app.js inlined verbatim";
  EXPECT_NE(html.find(source_file("style.css")), std::string::npos) << "style.css inlined verbatim";
  EXPECT_EQ(static_asset("/playground")->body, page->body);
  EXPECT_NE(page->content_security_policy.find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(page->content_security_policy.find("default-src 'none'"), std::string::npos);
}

TEST(StaticAssets, DocsPageEmbedsTheOpenApiDescription) {
  const auto page = static_asset("/docs");
  ASSERT_TRUE(page.has_value());
  const std::string html(page->body);
  expect_self_contained(html);
  const std::string open = "<script type=\"application/json\" id=\"openapi\">";
  const auto begin = html.find(open);
  ASSERT_NE(begin, std::string::npos);
  const auto end = html.find("</script>", begin);
  ASSERT_NE(end, std::string::npos);
  const Json embedded = Json::parse(html.substr(begin + open.size(), end - begin - open.size()));
  EXPECT_EQ(embedded, Json::parse(source_file("openapi.json")));
  const auto spec = static_asset("/openapi.json");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->content_type, "application/json");
  EXPECT_EQ(Json::parse(spec->body), embedded);
}

TEST(StaticAssets, OtherPathsAreNotPages) {
  for (const char* path : {"/index.html", "/app.js", "/docs.js", "/style.css", "/embed", "", "/docs/", "//"})
    EXPECT_FALSE(static_asset(path).has_value()) << path;
}
