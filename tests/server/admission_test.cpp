// Admission under overload (issue 23 item 9) and the start-up probes (item 5), on the server's own layers with a
// backend whose model time is known: the engine admits by the queue's estimated wait (--max-queue-time-ms), an
// overloaded model route is answered 429 from the request's header before its body is read, and /health answered
// 503 while the model loads is logged below ERROR and not counted by the request metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <thread>

#include "server/api/api.hpp"
#include "server/engine/engine.hpp"
#include "server/errors.hpp"
#include "server/http/http_server.hpp"
#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

using namespace std::chrono_literals;

// A model that takes `delay` per batch (one output value per sequence) and per pipeline call.
class TimedBackend : public server::Backend {
 public:
  explicit TimedBackend(std::chrono::milliseconds delay) : delay_(delay) {}
  std::vector<std::vector<float>> run(const std::vector<const server::Sequence*>& batch) override {
    std::this_thread::sleep_for(delay_);
    return std::vector<std::vector<float>>(batch.size(), std::vector<float>{1.f});
  }
  Json run_pipeline(const Json& input, const Json&) override {
    std::this_thread::sleep_for(delay_);
    return input;
  }

 private:
  std::chrono::milliseconds delay_;
};

// Captures what the server writes to std::cerr (its log) while alive.
class CaptureLog {
 public:
  CaptureLog() : old_(std::cerr.rdbuf(buf_.rdbuf())) {}
  ~CaptureLog() { std::cerr.rdbuf(old_); }
  std::string text() const { return buf_.str(); }

 private:
  std::stringstream buf_;
  std::streambuf* old_;
};

server::EngineResult run_one(server::Engine& engine) {
  std::promise<server::EngineResult> done;
  auto f = done.get_future();
  engine.submit(
      [] {
        server::Sequence s;
        s.ids = {101, 7592, 102};
        return std::vector<server::Sequence>{s};
      },
      [&done](server::EngineResult r) { done.set_value(std::move(r)); });
  return f.get();
}

TEST(Admission, AdmitsByTheQueuesEstimatedWait) {
  TimedBackend backend(20ms);
  server::ServerOptions o;
  o.max_batch_requests = 1;  // one request per batch: a request costs one batch
  o.max_queue_time = 400ms;
  o.tokenization_workers = 2;
  server::Metrics metrics;
  server::Engine engine(backend, o, metrics);
  EXPECT_EQ(engine.estimated_wait_seconds(), 0.0);  // nothing measured yet: admission by count only
  for (int i = 0; i < 5; ++i) {
    engine.admit();
    EXPECT_FALSE(run_one(engine).error);
    engine.release();
  }
  // Requests now cost >= 20 ms each: admitted while those ahead of a request add up to at most 400 ms (and always
  // while fewer than 8 are in flight).
  std::size_t admitted = 0;
  try {
    for (; admitted < 1000; ++admitted) engine.admit();
  } catch (const server::ServerError& e) {
    EXPECT_EQ(e.type, server::ErrorType::Overloaded);
  }
  ASSERT_GE(admitted, 8u);
  EXPECT_LE(admitted, 21u) << "admission did not follow the estimated wait";
  const double per_request = engine.estimated_wait_seconds() / static_cast<double>(admitted);
  EXPECT_GE(per_request, 0.019);
  EXPECT_GT(engine.estimated_wait_seconds(), 0.4);
  // The budget decided every admission beyond the first 8 (those are admitted whatever the estimate: on a slow
  // machine, e.g. under the sanitizers at load 8, one request measured 58 ms and 7 x 58 ms passed 0.4 s).
  if (admitted > 8) {
    EXPECT_LE(static_cast<double>(admitted - 1) * per_request, 0.4 + 1e-9);
  }
  EXPECT_FALSE(engine.would_admit());
  for (std::size_t i = 0; i < admitted; ++i) engine.release();
  EXPECT_TRUE(engine.would_admit());
  engine.stop();
}

TEST(Admission, ZeroQueueTimeAdmitsByCountOnly) {
  TimedBackend backend(5ms);
  server::ServerOptions o;
  o.max_queue_time = 0ms;
  o.max_concurrent_requests = 64;
  o.tokenization_workers = 1;
  server::Metrics metrics;
  server::Engine engine(backend, o, metrics);
  engine.admit();
  EXPECT_FALSE(run_one(engine).error);
  engine.release();
  for (int i = 0; i < 64; ++i) engine.admit();
  EXPECT_FALSE(engine.would_admit());
  EXPECT_THROW(engine.admit(), server::ServerError);
  for (int i = 0; i < 64; ++i) engine.release();
  engine.stop();
}

// An Api + Engine + HttpServer as Server::start wires them, over the timed backend (a "pipeline" model: only / and
// /pipeline run it), one request at a time.
struct TimedServer {
  explicit TimedServer(std::chrono::milliseconds delay) : backend(delay) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.max_concurrent_requests = 1;
    options.tokenization_workers = 1;
    api = std::make_unique<server::Api>(metrics, options);
    engine = std::make_unique<server::Engine>(backend, options, metrics);
    api->attach(&backend, engine.get());
    http = std::make_unique<server::http::HttpServer>(
        options, [this](server::http::Request r, server::http::Reply reply) { api->handle(std::move(r), reply); });
    http->set_early_response([this](const server::http::Request& head) { return api->reject_early(head); });
    http->start();
    api->set_ready(true);
  }
  ~TimedServer() {
    http->stop();
    engine->stop();
  }
  TimedBackend backend;
  server::ServerOptions options;
  server::Metrics metrics;
  std::unique_ptr<server::Api> api;
  std::unique_ptr<server::Engine> engine;
  std::unique_ptr<server::http::HttpServer> http;
};

std::string raw_request(unsigned short port, const std::string& data) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(Admission, OverloadIsAnsweredFromTheHeaderBeforeTheBodyIsRead) {
  CaptureLog log;
  TimedServer s(1500ms);
  // One request occupies the only slot for 1.5 s.
  auto busy = std::async(std::launch::async, [&] {
    HttpClient c(s.http->port());
    return c.post("/pipeline", {{"inputs", "slow"}});
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s.engine->in_flight() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(s.engine->in_flight(), 1u);
  // Expect: 100-continue: the body is never sent, yet the answer is 429 Overloaded: it came from the header.
  const std::string r = raw_request(s.http->port(),
                                    "POST /pipeline HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 20\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 429", 0), 0u) << r;
  EXPECT_NE(r.find("\"error_type\":\"Overloaded\""), std::string::npos) << r;
  EXPECT_NE(r.find("x-request-id"), std::string::npos) << r;
  // A body that is not JSON is not parsed either (it would be 422): 429, and the connection stays usable.
  HttpClient c(s.http->port());
  auto bad = c.request("POST", "/", "{not json");
  EXPECT_EQ(bad.status, 429) << bad.body;
  EXPECT_EQ(c.get("/metrics").status, 200);  // not a model route: never refused for load
  EXPECT_EQ(busy.get().status, 200);
  // The slot is free again: admitted and answered.
  auto ok = c.post("/", {{"inputs", "again"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json(), "again");
  EXPECT_EQ(s.metrics.counter("te_request_failure", "err=\"Overloaded\""), 2.0);
  EXPECT_EQ(s.metrics.counter("te_request_count", "method=\"pipeline\""), 4.0);
  // Thousands of early 429s are one log line a second, not one each.
  EXPECT_NE(log.text().find("rejected before their body was read"), std::string::npos) << log.text();
}

TEST(Probes, HealthWhileLoadingIsLoggedBelowErrorAndNotCountedAsAFailure) {
  for (bool json : {false, true}) {
    CaptureLog log;
    server::Metrics metrics;
    server::ServerOptions o;
    o.json_output = json;
    server::Api api(metrics, o);  // no model attached yet: loading
    int status = 0;
    for (int i = 0; i < 9; ++i) {
      server::http::Request r;
      r.method = "GET";
      r.target = "/health";
      api.handle(r, [&](server::http::Response res) { status = res.status; });
      EXPECT_EQ(status, 503);
    }
    const std::string text = log.text();
    EXPECT_EQ(text.find("ERROR"), std::string::npos) << text;
    EXPECT_NE(text.find(json ? "\"level\":\"INFO\"" : " INFO GET /health 503"), std::string::npos) << text;
    EXPECT_EQ(metrics.counter("te_request_failure", "err=\"Unhealthy\""), 0.0);
    EXPECT_EQ(metrics.counter("te_request_count", "method=\"health\""), 0.0);
    // An API call while loading is a failed request, logged as an error and counted.
    server::http::Request embed;
    embed.method = "POST";
    embed.target = "/embed";
    embed.body = "{\"inputs\": \"x\"}";
    api.handle(embed, [&](server::http::Response res) { status = res.status; });
    EXPECT_EQ(status, 503);
    EXPECT_NE(log.text().find(json ? "\"level\":\"ERROR\"" : " ERROR POST /embed 503"), std::string::npos);
    EXPECT_EQ(metrics.counter("te_request_failure", "err=\"Unhealthy\""), 1.0);
    EXPECT_EQ(metrics.counter("te_request_count", "method=\"embed\""), 1.0);
  }
}

}  // namespace
}  // namespace ortformers::testing
