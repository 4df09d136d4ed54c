// Load, hostile input and overload on an in-process server (loopback, ephemeral port), with the numbers in
// Release: 32 client threads x 1,000 mixed requests each answered with its own single-call result; >= 10,000
// malformed requests answered 4xx with the server alive and its RSS bounded; 10x capacity -> only 200/429; 1,000
// concurrent keep-alive connections. Sanitizer builds run a tenth (ORTFORMERS_SERVER_STRESS_SCALE overrides).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "server_fixture.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define ORTFORMERS_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORTFORMERS_TEST_SANITIZED 1
#endif
#endif

namespace ortformers::testing {
namespace {

double stress_scale() {
  if (const char* s = std::getenv("ORTFORMERS_SERVER_STRESS_SCALE")) return std::max(0.001, std::atof(s));
#ifdef ORTFORMERS_TEST_SANITIZED
  return 0.1;
#else
  return 1.0;
#endif
}
std::size_t scaled(std::size_t n) {
  return std::max<std::size_t>(1, static_cast<std::size_t>(n * stress_scale()));
}

std::size_t rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

// One connection, raw bytes: sends `data`, reads until the server closes, `timeout_ms` passes, or (stop_at_header)
// a response header has arrived. Returns what was read.
std::string raw_exchange(unsigned short port, const std::string& data, int timeout_ms = 5000,
                         bool stop_at_header = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::size_t sent = 0;
  while (sent < data.size()) {
    const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (stop_at_header && out.find("\r\n\r\n") != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

server::Server& stress_server() {
  return shared_server("stress", [] {
    auto o = loopback_options((*find_fixtures_dir() / "onnx/minilm-tiny-st").string());
    o.payload_limit = 64 * 1024;
    o.header_timeout = std::chrono::milliseconds(300);
    o.max_concurrent_requests = 4096;
    o.io_threads = 2;
    return o;
  });
}

double max_abs(const Json& a, const Json& b) {
  if (a.is_number()) return std::abs(a.get<double>() - b.get<double>());
  if (!a.is_array() || !b.is_array() || a.size() != b.size()) return 1e9;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, max_abs(a[i], b[i]));
  return m;
}

class Stress : public ::testing::Test {
 protected:
  void SetUp() override {
    ORTFORMERS_REQUIRE_FIXTURES(dir);
    (void)dir;
    server_ = &stress_server();
  }
  server::Server* server_ = nullptr;
};

TEST_F(Stress, ConcurrentMixedRequestsEachGetTheirOwnResult) {
  const std::vector<std::string> texts = {"Hello world!",
                                          "The quick brown fox jumps over the lazy dog.",
                                          "a",
                                          "John Smith works at Google in New York City.",
                                          "東京は日本の首都です。",
                                          "Café, résumé, naïve façade",
                                          "one two three four five six seven eight",
                                          "I love this movie",
                                          "Don't stop-believing: it's 3.14159"};
  struct Req {
    std::string path;
    Json body;
    Json expected;
  };
  std::vector<Req> reqs;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    reqs.push_back({"/embed", {{"inputs", texts[i]}}, nullptr});
    reqs.push_back({"/embed", {{"inputs", {texts[i], texts[(i + 3) % texts.size()]}}, {"normalize", false}}, nullptr});
    reqs.push_back({"/tokenize", {{"inputs", texts[i]}}, nullptr});
    reqs.push_back({"/v1/embeddings", {{"input", texts[i]}, {"dimensions", 16}}, nullptr});
  }
  reqs.push_back({"/embed", {{"inputs", Json::array()}}, nullptr});  // an error is a result too
  HttpClient single(server_->port());
  for (auto& r : reqs) {
    auto res = single.post(r.path, r.body);
    r.expected = {{"status", res.status}, {"body", Json::parse(res.body)}};
  }
  const std::size_t threads = 32, per_thread = scaled(1000);
  std::atomic<std::size_t> mismatches{0}, done{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      HttpClient c(server_->port());
      for (std::size_t k = 0; k < per_thread; ++k) {
        const auto& r = reqs[(t * 7 + k * 13) % reqs.size()];
        auto res = c.post(r.path, r.body);
        const Json body = Json::parse(res.body, nullptr, false);
        const bool same =
            res.status == r.expected["status"] &&
            (r.path == "/v1/embeddings"
                 ? max_abs(body["data"][0]["embedding"], r.expected["body"]["data"][0]["embedding"]) < 1e-5
                 : (res.status == 200 && r.path != "/tokenize" ? max_abs(body, r.expected["body"]) < 1e-5
                                                               : body == r.expected["body"]));
        if (!same) mismatches.fetch_add(1);
        done.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(done.load(), threads * per_thread);
  EXPECT_EQ(mismatches.load(), 0u);
}

TEST_F(Stress, HostileInputGetsTheRight4xxAndTheServerLivesOn) {
  HttpClient probe(server_->port());
  const Json before = probe.post("/embed", {{"inputs", "still the same"}}).json();
  const std::size_t rss_before = rss_kb();
  std::string deep(2000, '[');
  deep += std::string(2000, ']');
  // Bodies that keep the connection open (JSON-level errors) and their expected status.
  const std::vector<std::pair<std::string, int>> bodies = {
      {"{\"inputs\": \"abc", 422},
      {"{inputs: 1}", 422},
      {"{\"inputs\": \"\xff\xfe\xfd\"}", 422},
      {"{\"inputs\": \"\xc3\x28\"}", 422},
      {"{\"inputs\": " + deep + "}", 422},
      {"{\"inputs\": [1e400]}", 422},
      {"{\"inputs\": [99999999999999999999999999]}", 422},
      {"{\"inputs\": [-1, 2]}", 422},
      {"{\"inputs\": {\"a\": 1}}", 422},
      {"{\"inputs\": \"x\", \"truncate\": \"yes\"}", 422},
      {"{\"inputs\": \"x\", \"dimensions\": -3}", 422},
      {"{\"inputs\": \"x\", \"dimensions\": 1.5}", 422},
      {"[]", 422},
      {"null", 422},
      {"", 422},
      {"{\"inputs\": []}", 400},
      {"{\"inputs\": [[]]}", 400},
      {"{\"inputs\": [\"a\", 1]}", 422},
      {"{\"inputs\": \"x\", \"prompt_name\": 7}", 422},
      {"{\"inputs\": \"x\", \"truncation_direction\": \"Middle\"}", 422},
  };
  const std::size_t n_json = scaled(9000);
  std::atomic<std::size_t> wrong{0}, total{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < 8; ++t) {
    pool.emplace_back([&, t] {
      HttpClient c(server_->port());
      for (std::size_t k = t; k < n_json; k += 8) {
        const auto& [body, status] = bodies[k % bodies.size()];
        auto r = c.request("POST", k % 3 ? "/embed" : "/embed_all", body);
        if (r.status != status) wrong.fetch_add(1);
        total.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  // HTTP-level garbage: answered 400/413/431 and closed, or closed at once.
  const std::string big_body(100 * 1024, 'x');
  const std::vector<std::pair<std::string, int>> raw = {
      {"GARBAGE\r\n\r\n", 400},
      {"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
      {"POST /embed HTTP/9.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big_body.size()) + "\r\n\r\n" + big_body,
       413},
      {"POST /embed HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", 0},
  };
  const std::size_t n_raw = scaled(1000);
  std::atomic<std::size_t> raw_wrong{0};
  pool.clear();
  for (std::size_t t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t k = t; k < n_raw; k += 4) {
        const auto& [data, status] = raw[k % raw.size()];
        const std::string res = raw_exchange(server_->port(), data, 3000, status == 0);
        if (status == 0 ? res.rfind("HTTP/1.1 100", 0) != 0 : status_of(res) != status) raw_wrong.fetch_add(1);
        total.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(raw_wrong.load(), 0u);
  // Slow headers: a partial header and then nothing: closed after the header timeout (300 ms here), no answer.
  pool.clear();
  std::atomic<std::size_t> slow_wrong{0};
  for (int t = 0; t < 20; ++t) {
    pool.emplace_back([&] {
      const auto t0 = std::chrono::steady_clock::now();
      const std::string res = raw_exchange(server_->port(), "POST /embed HTTP/1.1\r\nHost: x\r\nX-Slow: ", 5000);
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (!res.empty() || ms < 250 || ms > 4000) slow_wrong.fetch_add(1);
      total.fetch_add(1);
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(slow_wrong.load(), 0u);
  EXPECT_GE(total.load(), scaled(10000));
  // Alive, same answers, bounded memory.
  HttpClient after(server_->port());
  EXPECT_EQ(after.get("/health").status, 200);
  EXPECT_LT(max_abs(after.post("/embed", {{"inputs", "still the same"}}).json(), before), 1e-6);
  const std::size_t rss_after = rss_kb();
  EXPECT_LT(rss_after, rss_before + 200 * 1024) << "RSS grew from " << rss_before << " kB to " << rss_after << " kB";
}

// 80 closed-loop clients, each sending 32 sentences per request: only 200 (the right embeddings) or 429, and the
// accepted requests' latency bounded (p99 under 2 s: with a bound of 512 requests and no wait budget it grows with
// the queue). Returns {accepted, rejected}.
std::pair<std::size_t, std::size_t> overload(server::Server& s) {
  HttpClient probe(s.port());
  const std::vector<std::string> batch(32, "a sentence long enough to take the model a little while to embed");
  const Json expected = probe.post("/embed", {{"inputs", batch}}).json();
  const std::size_t clients = 80, per_client = scaled(20);
  std::atomic<std::size_t> ok{0}, overloaded{0}, other{0}, wrong{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < clients; ++t) {
    pool.emplace_back([&] {
      HttpClient c(s.port());
      for (std::size_t k = 0; k < per_client; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c.post("/embed", {{"inputs", batch}});
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (r.status == 200) {
          ok.fetch_add(1);
          if (max_abs(r.json(), expected) > 1e-5) wrong.fetch_add(1);
          std::lock_guard lock(mu);
          latencies_ms.push_back(ms);
        } else if (r.status == 429 && r.json()["error_type"] == "Overloaded") {
          overloaded.fetch_add(1);
        } else {
          other.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(other.load(), 0u);
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(ok.load(), 0u);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  if (!latencies_ms.empty()) {
    const double p99 = latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
    EXPECT_LT(p99, 2000.0) << "p99 of accepted requests";
  }
  EXPECT_EQ(probe.get("/health").status, 200);
  EXPECT_NE(s.metrics_text().find("te_request_failure{err=\"Overloaded\"}"), std::string::npos);
  return {ok.load(), overloaded.load()};
}

TEST_F(Stress, OverloadAnswersOnly200Or429) {
  // Admission by count: 8 in flight.
  auto& s = shared_server("overload", [] {
    auto o = loopback_options((*find_fixtures_dir() / "onnx/minilm-tiny-st").string());
    o.max_concurrent_requests = 8;
    o.max_queue_time = std::chrono::milliseconds(0);
    return o;
  });
  EXPECT_GT(overload(s).second, 0u);
}

TEST_F(Stress, OverloadAdmitsByTheQueuesEstimatedWait) {
  // The default bound of 512 in flight is never reached by 80 clients: every 429 comes from the wait budget.
  auto& s = shared_server("overload-wait", [] {
    auto o = loopback_options((*find_fixtures_dir() / "onnx/minilm-tiny-st").string());
    o.max_queue_time = std::chrono::milliseconds(5);
    return o;
  });
  EXPECT_GT(overload(s).second, 0u);
}

TEST_F(Stress, HoldsAThousandKeepAliveConnections) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const std::size_t n = 1000;
  ASSERT_GE(rl.rlim_cur, 2 * n + 200) << "open-file limit too low for 1,000 client + 1,000 server sockets";
  std::vector<std::unique_ptr<HttpClient>> conns;
  for (std::size_t i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<HttpClient>(server_->port()));
    ASSERT_EQ(conns.back()->get("/health").status, 200) << "connection " << i;
  }
  // Every connection is still open and served (keep-alive), none was dropped.
  std::size_t ok = 0;
  for (auto& c : conns) ok += c->post("/embed", {{"inputs", "kept alive"}}).status == 200;
  EXPECT_EQ(ok, n);
}

}  // namespace
}  // namespace ortformers::testing
