#pragma once
// In-process servers on ephemeral loopback ports over the fixture models, started once per test binary and shared
// by the tests; every answer of a TEI route is checked against TEI's OpenAPI schema.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "client.hpp"
#include "openapi.hpp"
#include "ortformers/server/server.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing {

inline server::ServerOptions loopback_options(const std::string& model) {
  server::ServerOptions o;
  o.model_id = model;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 1;
  o.tokenization_workers = 2;
  o.ort_cache = false;
  return o;
}

inline std::unique_ptr<server::Server> start_server(const server::ServerOptions& o) {
  auto s = std::make_unique<server::Server>(o);
  s->start();
  return s;
}

// Servers by name, stopped at the end of the test program.
inline std::map<std::string, std::unique_ptr<server::Server>>& server_registry() {
  static std::map<std::string, std::unique_ptr<server::Server>> servers;
  return servers;
}

class StopServers : public ::testing::Environment {
 public:
  void TearDown() override { server_registry().clear(); }
};

inline server::Server& shared_server(const std::string& name, const std::function<server::ServerOptions()>& make) {
  static bool registered = false;
  if (!registered) {
    ::testing::AddGlobalTestEnvironment(new StopServers);
    registered = true;
  }
  auto& reg = server_registry();
  auto it = reg.find(name);
  if (it == reg.end()) it = reg.emplace(name, start_server(make())).first;
  return *it->second;
}

inline const OpenApiValidator& tei_spec() {
  static const OpenApiValidator v(read_json_file(find_fixtures_dir()->parent_path() / "specs" / "tei-openapi.json"));
  return v;
}

// POST a JSON body; the answer of a route in TEI's spec must match the schema of its status.
inline HttpResult post_checked(HttpClient& c, const std::string& path, const Json& body) {
  HttpResult r = c.post(path, body);
  if (path != "/" && path != "/pipeline") {
    Json parsed = Json::parse(r.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << path << " answered non-JSON: " << r.body.substr(0, 200);
    if (!parsed.is_discarded()) {
      const std::string err = tei_spec().validate_response("post", path, r.status, parsed);
      EXPECT_EQ(err, "") << path << " " << r.status << " " << r.body.substr(0, 300);
    }
  }
  return r;
}

}  // namespace ortformers::testing
