// Scale-out of token streams (issue 22): two `ortformers serve` replicas of a generative fixture model behind the
// shipped deploy/nginx.conf. Streams (POST /generate_stream, server-sent events) pass through nginx unbuffered and
// equal the replica's own non-streamed answer; when a replica is killed mid-stream, a stream it was sending is cut
// visibly (the chunked response never gets its last chunk, so the client sees a transport error and no final
// event), never a 200 that looks complete with a truncated text; requests after the kill go to the live replica.
// Skipped when nginx is not installed, except under CI=true where that is a failure.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "ortformers/core/json.hpp"
#include "server_deploy/harness.hpp"
#include "server_deploy/http_client.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPrompts = {"Hello, my dog is", "The quick brown fox",
                                           "Once upon a time", "In the beginning",
                                           "A B C D",          "It was a dark and stormy night"};
constexpr int kMaxNewTokens = 96;  // gpt2-tiny has 128 positions
#if defined(__SANITIZE_ADDRESS__)
constexpr int kKillTestStreams = 64;  // the sanitizer build's replicas run several times slower
#else
constexpr int kKillTestStreams = 160;
#endif

Json request_body(const std::string& prompt) {
  return Json{{"inputs", prompt}, {"parameters", {{"max_new_tokens", kMaxNewTokens}, {"details", true}}}};
}

// The `data:` events of a server-sent-events body, parsed; a line that is not JSON becomes a string.
std::vector<Json> sse_events(const std::string& body) {
  std::vector<Json> events;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("data:", 0) != 0) continue;
    std::string data = line.substr(5);
    if (!data.empty() && data[0] == ' ') data.erase(0, 1);
    Json j = Json::parse(data, nullptr, false);
    events.push_back(j.is_discarded() ? Json(data) : j);
  }
  return events;
}

// What one stream through nginx gave.
struct StreamOutcome {
  bool complete = false;  // 200, a final event with generated_text
  bool cut = false;       // no complete HTTP response (transport error)
  std::string text;       // the final event's generated_text
  std::string tokens;     // the concatenated token texts (special tokens left out)
  std::string problem;    // anything else (a wrong status, a 200 without a final event, ...)
};

StreamOutcome classify(const HttpResponse& r) {
  StreamOutcome o;
  if (r.status == 0) {
    o.cut = true;
    return o;
  }
  if (r.status != 200) {
    o.problem = "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
    return o;
  }
  for (const Json& e : sse_events(r.body)) {
    if (!e.is_object()) continue;
    if (e.contains("error")) {  // a stream the server had to end says so
      o.cut = true;
      return o;
    }
    if (e.contains("token") && e["token"].is_object() && !e["token"].value("special", false))
      o.tokens += e["token"].value("text", "");
    if (e.contains("generated_text") && e["generated_text"].is_string()) {
      o.complete = true;
      o.text = e["generated_text"].get<std::string>();
    }
  }
  if (!o.complete) o.problem = "a 200 stream without its final event (silent truncation): " + r.body.substr(0, 300);
  return o;
}

class StreamScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fixtures = find_fixtures_dir();
    if (!fixtures) {
      if (running_in_ci()) FAIL() << "fixtures folder missing (CI=true)";
      GTEST_SKIP() << "fixtures folder not found (set ORTFORMERS_FIXTURES)";
    }
    const std::string nginx = find_nginx();
    if (nginx.empty()) {
      if (running_in_ci()) FAIL() << "nginx not found (CI=true): scripts/setup.sh installs nginx-light";
      GTEST_SKIP() << "nginx not installed (Debian: nginx-light, see scripts/setup.sh)";
    }
    dir_ = make_temp_dir("server-deploy-stream");
    const fs::path model = *fixtures / "onnx" / "gpt2-tiny";
    for (int i = 0; i < 2; ++i)
      replicas_.push_back(start_replica(model, dir_ / ("replica" + std::to_string(i) + ".log"), {"--threads", "1"}));
    for (auto& r : replicas_)
      ASSERT_TRUE(wait_healthy(r.port, *r.process, 60s)) << "replica on port " << r.port << " not healthy:\n"
                                                         << r.process->log_text();
    try {
      nginx_ = start_nginx(nginx, dir_ / "nginx", {replicas_[0].port, replicas_[1].port});
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    // The reference: each prompt's non-streamed greedy answer, from a replica directly.
    for (const auto& p : kPrompts) {
      const HttpResponse r = http_request(replicas_[1].port, "POST", "/generate", request_body(p).dump(), 30s);
      ASSERT_EQ(r.status, 200) << r.body;
      const Json j = Json::parse(r.body, nullptr, false);
      ASSERT_TRUE(j.is_object() && j["generated_text"].is_string()) << r.body;
      reference_.push_back(j["generated_text"].get<std::string>());
    }
  }

  void TearDown() override {
    if (nginx_.process) nginx_.process->stop();
    for (auto& r : replicas_) r.process->stop();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_;
  std::vector<ServeReplica> replicas_;
  NginxFront nginx_;
  std::vector<std::string> reference_;
};

TEST_F(StreamScaleOut, StreamsThroughNginxEqualTheNonStreamedAnswer) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> problems;
  for (std::size_t k = 0; k < kPrompts.size(); ++k) {
    threads.emplace_back([&, k] {
      HttpConnection conn("127.0.0.1", nginx_.port, 30s);
      for (int rep = 0; rep < 2; ++rep) {
        const StreamOutcome o = classify(conn.request("POST", "/generate_stream", request_body(kPrompts[k]).dump()));
        std::string p = o.problem;
        if (p.empty() && !o.complete) p = "cut";
        if (p.empty() && o.text != reference_[k]) p = "text differs: " + o.text + " vs " + reference_[k];
        if (p.empty() && o.tokens != o.text) p = "tokens do not concatenate to the text: " + o.tokens;
        if (!p.empty()) {
          std::lock_guard lock(mu);
          problems.push_back("prompt " + std::to_string(k) + ": " + p);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
}

TEST_F(StreamScaleOut, ReplicaKilledMidStreamCutsItsStreamsVisibly) {
  constexpr int kClients = 8, kTotal = kKillTestStreams;
  std::atomic<int> issued{0}, done{0};
  std::mutex mu;
  int complete = 0, cut = 0, complete_after_kill = 0;
  std::vector<std::string> problems;
  std::atomic<bool> killed{false};
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      for (int i = issued++; i < kTotal && std::chrono::steady_clock::now() < deadline; i = issued++) {
        const std::size_t k = static_cast<std::size_t>(i) % kPrompts.size();
        const bool after_kill = killed.load();
        // one connection per stream: a cut stream leaves its connection unusable
        const StreamOutcome o =
            classify(http_request(nginx_.port, "POST", "/generate_stream", request_body(kPrompts[k]).dump(), 30s));
        std::lock_guard lock(mu);
        if (!o.problem.empty()) {
          problems.push_back("request " + std::to_string(i) + ": " + o.problem);
        } else if (o.cut) {
          ++cut;
          if (after_kill) problems.push_back("request " + std::to_string(i) + " started after the kill was cut");
        } else if (o.text != reference_[k]) {
          problems.push_back("request " + std::to_string(i) + ": text differs: " + o.text);
        } else {
          ++complete;
          if (after_kill) ++complete_after_kill;
        }
        ++done;
      }
    });
  }
  while (done < kTotal / 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  replicas_[0].process->signal(SIGKILL);
  killed = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(replicas_[0].process->wait(5s), 128 + SIGKILL);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  EXPECT_EQ(complete + cut, kTotal);
  EXPECT_GT(complete_after_kill, kTotal / 2) << "requests after the kill go to the live replica";
  // Eight streams were running, about half of them on the killed replica: some were cut (or, had they not sent a
  // byte yet, resent by nginx to the live one). Either way none was answered as if complete with a short text.
  const std::string log = nginx_.stop_and_read_access_log();
  const bool resent = log.find(", 127.0.0.1:") != std::string::npos;
  EXPECT_TRUE(cut > 0 || resent) << "the kill did not happen while streams were running";
  EXPECT_EQ(http_request(replicas_[1].port, "GET", "/health").status, 200);
}

}  // namespace
