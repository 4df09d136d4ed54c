// Scale-out (issue 11): two `ortformers serve` replicas on loopback ports behind Debian's nginx, started with the
// shipped deploy/nginx.conf (only its upstream `server` lines and `listen` port replaced). One replica is killed
// mid-load; every client request must still succeed with its reference embedding, because nginx resends what
// failed to the other replica (proxy_next_upstream ... non_idempotent). Skipped when nginx is not installed,
// except under CI=true where that is a failure.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
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

// What nginx's access log (log_format `upstreams` of deploy/nginx.conf) says about the requests it proxied.
struct AccessLog {
  int requests = 0;
  int retried = 0;  // answered after more than one upstream attempt ("upstream=A:1, B:2")
  std::map<std::string, int> final_upstream;
};

AccessLog parse_access_log(const std::string& text) {
  AccessLog log;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"POST /embed ") == std::string::npos) continue;
    const auto b = line.find(" upstream=");
    const auto e = line.find(" upstream_status=");
    if (b == std::string::npos || e == std::string::npos) continue;
    const std::string addrs = line.substr(b + 10, e - b - 10);
    ++log.requests;
    if (addrs.find(',') != std::string::npos) ++log.retried;
    const auto last = addrs.rfind(' ');
    ++log.final_upstream[last == std::string::npos ? addrs : addrs.substr(last + 1)];
  }
  return log;
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fixtures_opt = find_fixtures_dir();
    if (!fixtures_opt) {
      if (running_in_ci()) FAIL() << "fixtures folder missing (CI=true)";
      GTEST_SKIP() << "fixtures folder not found (set ORTFORMERS_FIXTURES)";
    }
    nginx_ = find_nginx();
    if (nginx_.empty()) {
      if (running_in_ci()) FAIL() << "nginx not found (CI=true): scripts/setup.sh installs nginx-light";
      GTEST_SKIP() << "nginx not installed (Debian: nginx-light, see scripts/setup.sh)";
    }
    fixtures_ = *fixtures_opt;
    ref_ = load_minilm_tiny_st_reference(fixtures_);
    dir_ = make_temp_dir("server-deploy");
    const fs::path model = make_minilm_tiny_st_folder(fixtures_, dir_ / "model");
    for (int i = 0; i < 2; ++i) {
      replicas_.push_back(start_replica(model, dir_ / ("replica" + std::to_string(i) + ".log"), {"--threads", "1"}));
    }
    for (auto& r : replicas_) {
      ASSERT_TRUE(wait_healthy(r.port, *r.process, 60s)) << "replica on port " << r.port << " not healthy:\n"
                                                         << r.process->log_text();
    }
    try {
      nginx_front_ = start_nginx(nginx_, dir_ / "nginx", {replicas_[0].port, replicas_[1].port});
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    nginx_port_ = nginx_front_.port;
    ASSERT_EQ(http_request(nginx_port_, "GET", "/health").status, 200);
  }

  void TearDown() override {
    if (nginx_front_.process) nginx_front_.process->stop();
    for (auto& r : replicas_) r.process->stop();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  struct LoadResult {
    int ok = 0;
    std::vector<std::string> failures;
  };

  // `clients` keep-alive connections to nginx send `total` POST /embed requests (one reference sentence each,
  // truncated to the model's 256 tokens as sentence-transformers did for the reference);
  // `on_progress` runs once, on this thread, when `trigger_at` responses have arrived.
  LoadResult run_load(int clients, int total, int trigger_at, const std::function<void()>& on_progress) {
    std::atomic<int> issued{0}, done{0};
    std::mutex mu;
    LoadResult result;
    const auto deadline = std::chrono::steady_clock::now() + 45s;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        HttpConnection conn("127.0.0.1", nginx_port_, 20s);
        for (int i = issued++; i < total && std::chrono::steady_clock::now() < deadline; i = issued++) {
          const std::size_t k = static_cast<std::size_t>(i) % ref_.inputs.size();
          const HttpResponse r =
              conn.request("POST", "/embed", Json{{"inputs", ref_.inputs[k]}, {"truncate", true}}.dump());
          std::string failure;
          if (r.status != 200) {
            failure = "request " + std::to_string(i) + ": status " + std::to_string(r.status) + " " + r.error + " " +
                      r.body.substr(0, 200);
          } else {
            const Json j = Json::parse(r.body, nullptr, false);
            const double d = j.is_array() && j.size() == 1 ? max_abs_diff_row(j[0], ref_.embeddings[k]) : INFINITY;
            if (!(d <= 1e-4)) failure = "request " + std::to_string(i) + ": embedding differs by " + std::to_string(d);
          }
          std::lock_guard lock(mu);
          if (failure.empty())
            ++result.ok;
          else
            result.failures.push_back(failure);
          ++done;
        }
      });
    }
    while (done < trigger_at && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    on_progress();
    for (auto& t : threads) t.join();
    return result;
  }

  // Stops nginx first (see NginxFront::stop_and_read_access_log): a client can see its answer before its log line
  // is there.
  AccessLog access_log() { return parse_access_log(nginx_front_.stop_and_read_access_log()); }

  fs::path fixtures_, dir_;
  std::string nginx_;
  StReference ref_;
  std::vector<ServeReplica> replicas_;
  std::uint16_t nginx_port_ = 0;
  NginxFront nginx_front_;
};

std::string first_failures(const std::vector<std::string>& f) {
  std::string s;
  for (std::size_t i = 0; i < f.size() && i < 5; ++i) s += f[i] + "\n";
  return s;
}

TEST_F(ScaleOut, BothReplicasServeThroughNginx) {
  const LoadResult r = run_load(4, 200, 0, [] {});
  EXPECT_EQ(r.ok, 200) << first_failures(r.failures);
  const AccessLog log = access_log();
  EXPECT_EQ(log.requests, 200);
  EXPECT_EQ(log.retried, 0);
  // least_conn spreads concurrent requests over both replicas.
  EXPECT_EQ(log.final_upstream.size(), 2u);
}

TEST_F(ScaleOut, ReplicaKilledMidLoadLosesNoRequest) {
  constexpr int kTotal = 2000;
  const std::string killed = "127.0.0.1:" + std::to_string(replicas_[0].port);
  std::chrono::steady_clock::time_point killed_at;
  const LoadResult r = run_load(8, kTotal, kTotal / 4, [&] {
    replicas_[0].process->signal(SIGKILL);
    killed_at = std::chrono::steady_clock::now();
  });
  EXPECT_EQ(replicas_[0].process->wait(5s), 128 + SIGKILL);
  EXPECT_EQ(r.ok, kTotal) << r.failures.size() << " failed requests, first:\n" << first_failures(r.failures);
  EXPECT_TRUE(r.failures.empty());
  AccessLog log = access_log();
  EXPECT_EQ(log.requests, kTotal);
  // The kill happened with requests under way: nginx had to resend at least one (a reset in-flight request, or
  // a refused/failed connection before it marked the replica down).
  EXPECT_GE(log.retried, 1) << "no request was resent: the kill did not happen mid-load";
  EXPECT_GT(log.final_upstream[killed], 0) << "the killed replica served nothing before the kill";
  EXPECT_LT(log.final_upstream[killed], kTotal / 2);
  // The survivor is still healthy and answering.
  EXPECT_EQ(http_request(replicas_[1].port, "GET", "/health").status, 200);
}

TEST_F(ScaleOut, ReplicaStoppedWithSigtermDrainsAndExitsZero) {
  constexpr int kTotal = 1500;
  const LoadResult r = run_load(8, kTotal, kTotal / 4, [&] { replicas_[0].process->signal(SIGTERM); });
  const auto status = replicas_[0].process->wait(30s);
  ASSERT_TRUE(status.has_value()) << "replica did not exit within 30 s of SIGTERM";
  EXPECT_EQ(*status, 0) << replicas_[0].process->log_text();
  EXPECT_EQ(r.ok, kTotal) << r.failures.size() << " failed requests, first:\n" << first_failures(r.failures);
  EXPECT_EQ(access_log().requests, kTotal);
}

}  // namespace
