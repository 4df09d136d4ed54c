#pragma once
// Subprocesses for the deployment tests: `ortformers serve` replicas and nginx on free loopback ports. Every child
// gets SIGKILL if the test process dies (PR_SET_PDEATHSIG) and is stopped by its destructor, so nothing outlives a
// test.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

// The whole file, or empty when it cannot be read (for diagnostics and logs that may not exist yet).
std::string read_file_or_empty(const std::filesystem::path& path);

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
std::uint16_t free_loopback_port();

class ChildProcess {
 public:
  // Starts `argv` with stdout and stderr appended to `log`.
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `timeout` for the exit; the exit status (or 128 + signal), nullopt while still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  std::string log_text() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_;
};

// `ortformers serve --model DIR --host 127.0.0.1 --port P [extra]` (ORTFORMERS_CLI_PATH).
struct ServeReplica {
  std::uint16_t port = 0;
  std::unique_ptr<ChildProcess> process;
};
ServeReplica start_replica(const std::filesystem::path& model, const std::filesystem::path& log,
                           const std::vector<std::string>& extra = {});

// Polls GET /health until 200 or the deadline; false on timeout or when the process exited.
bool wait_healthy(std::uint16_t port, ChildProcess& process, std::chrono::milliseconds timeout,
                  const std::string& path = "/health");

// `name` found in a folder of $PATH, or empty.
std::string find_on_path(const std::string& name);
// The nginx binary: $NGINX, nginx on PATH, or /usr/sbin/nginx; empty when none.
std::string find_nginx();

// deploy/nginx.conf with the upstream `server` lines replaced by `upstreams` (127.0.0.1 ports; the options of the
// shipped first line are kept) and the `listen` line by 127.0.0.1:listen_port. Throws when the file does not have
// those lines.
std::string render_nginx_conf(const std::string& shipped, const std::vector<std::uint16_t>& upstreams,
                              std::uint16_t listen_port);

// nginx with the shipped deploy/nginx.conf (rendered by render_nginx_conf) in front of `upstreams`, not daemonised,
// with a private prefix `prefix` (pid, logs, temp files). master_process off: one process, so that the SIGKILL sent
// when the test process dies (PR_SET_PDEATHSIG) stops all of nginx (workers of a killed master would live on).
struct NginxFront {
  std::uint16_t port = 0;
  std::filesystem::path logs;  // prefix/logs: access.log, error.log, startup.log
  std::unique_ptr<ChildProcess> process;
  // Stops nginx gracefully (SIGQUIT: it finishes what it is doing, and writes a request's log line only after its
  // response was sent) and returns its access log.
  std::string stop_and_read_access_log();
};
// Throws std::runtime_error with nginx's own messages when it does not answer /nginx-health within 20 s.
NginxFront start_nginx(const std::string& nginx, const std::filesystem::path& prefix,
                       const std::vector<std::uint16_t>& upstreams);

// The MiniLM-shaped sentence-transformers fixture as one folder: the optimum export onnx/minilm-tiny-st/model.onnx
// (token_embeddings + sentence_embedding) with the tokenizer and sentence-transformers files of
// models/minilm-tiny-st, linked into `dir`.
std::filesystem::path make_minilm_tiny_st_folder(const std::filesystem::path& fixtures,
                                                 const std::filesystem::path& dir);

// The sentence-embeddings reference of minilm-tiny-st (sentence_transformers' encode): the non-empty inputs and
// their embeddings, row by row.
struct StReference {
  std::vector<std::string> inputs;
  std::vector<std::vector<float>> embeddings;
};
StReference load_minilm_tiny_st_reference(const std::filesystem::path& fixtures);
// Max |a - b| over a JSON array of numbers against a reference row; infinity on a size or type mismatch.
double max_abs_diff_row(const Json& values, const std::vector<float>& expected);

}  // namespace ortformers::testing
