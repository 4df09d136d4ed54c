#pragma once
// An in-process server on an ephemeral loopback port over one fixture model, shared by the tests of a suite.
#include <gtest/gtest.h>

#include <memory>

#include "client.hpp"
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

}  // namespace ortformers::testing
