// `ortformers serve` as a process (ORTFORMERS_CLI_PATH): the startup log, then SIGTERM under load: requests in
// flight are answered 200, the listener closes, the process exits 0 within the drain deadline.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

struct ServeProcess {
  pid_t pid = -1;
  std::filesystem::path log;
  unsigned short port = 0;

  std::string log_text() const {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Waits for "ready on http://HOST:PORT" (or the process to die); returns false on failure.
  bool wait_ready(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      // A complete "ready on http://HOST:PORT" line (no std::regex: libstdc++'s warns -Wmaybe-uninitialized at -O1).
      const std::string text = log_text();
      const auto at = text.find("ready on http://");
      const auto colon = at == std::string::npos ? at : text.find(':', at + 16);
      const auto eol = colon == std::string::npos ? colon : text.find('\n', colon);
      if (eol != std::string::npos && eol > colon + 1 && text.find_first_not_of("0123456789", colon + 1) == eol) {
        port = static_cast<unsigned short>(std::stoi(text.substr(colon + 1, eol - colon - 1)));
        return true;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Exit status after a signal, or -1 when it does not exit within `limit` (then it is killed).
  int wait_exit(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
    return -1;
  }
  ~ServeProcess() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

ServeProcess spawn_serve(const std::vector<std::string>& args) {
  ServeProcess p;
  p.log = make_temp_dir("ortformers-serve-log") / "stderr.log";
  std::vector<std::string> argv_s = {ORTFORMERS_CLI_PATH, "serve"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  p.pid = ::fork();
  if (p.pid == 0) {
    FILE* f = std::freopen(p.log.c_str(), "w", stderr);
    (void)f;
    std::freopen("/dev/null", "w", stdout);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return p;
}

TEST(ServeProcess, SigtermDrainsInFlightRequestsAndExitsZero) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  if (std::string(ORTFORMERS_CLI_PATH).empty()) GTEST_SKIP() << "CLI not built";
  auto p = spawn_serve({"--model", (fixtures / "onnx/minilm-tiny-st").string(), "--host", "127.0.0.1", "--port", "0",
                        "--threads", "1", "--no-ort-cache", "--drain-timeout-ms", "20000"});
  ASSERT_TRUE(p.wait_ready(std::chrono::seconds(60))) << p.log_text();
  const std::string log = p.log_text();
  // An optimum sentence-transformers export without 1_Pooling/: the pooling is the graph's own (issue 23 item 1).
  EXPECT_NE(log.find("task sentence-embeddings, model type embedding (pooling sentence_embedding)"), std::string::npos)
      << log;
  EXPECT_NE(log.find("max-concurrent-requests 512, max-queue-time-ms 750, max-batch-tokens 16384"), std::string::npos)
      << log;

  const std::vector<std::string> batch(32, "a sentence long enough to keep the model busy for a little while, twice");
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> ok{0}, bad_status{0}, after_signal_ok{0};
  std::atomic<bool> signalled{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      try {
        HttpClient c(p.port);
        while (!stop) {
          auto r = c.post("/embed", {{"inputs", batch}});
          const bool was_signalled = signalled.load();
          if (r.status == 200) {
            ok.fetch_add(1);
            if (was_signalled) after_signal_ok.fetch_add(1);
          } else {
            bad_status.fetch_add(1);
          }
          if (was_signalled) break;  // the connection closes after the answer to a request in flight
        }
      } catch (const std::exception&) {
        // A request sent after the drain began may find its connection closed: no answer, never a wrong one.
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_GT(ok.load(), 0u) << p.log_text();
  signalled = true;
  ::kill(p.pid, SIGTERM);
  const int code = p.wait_exit(std::chrono::seconds(30));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(code, 0) << p.log_text();
  EXPECT_EQ(bad_status.load(), 0u);
  EXPECT_GT(after_signal_ok.load(), 0u) << "no request in flight at SIGTERM was answered";
  EXPECT_NE(p.log_text().find("SIGTERM: no new connections, draining"), std::string::npos);
  EXPECT_ANY_THROW(HttpClient{p.port});  // the listener is gone
}

TEST(ServeProcess, BadModelFailsWithANamedError) {
  if (std::string(ORTFORMERS_CLI_PATH).empty()) GTEST_SKIP() << "CLI not built";
  auto p = spawn_serve({"--model", "/no/such/model", "--host", "127.0.0.1", "--port", "0"});
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(30)), 2);
  EXPECT_NE(p.log_text().find("/no/such/model"), std::string::npos) << p.log_text();
}

}  // namespace
}  // namespace ortformers::testing
