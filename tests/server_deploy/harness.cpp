#include "server_deploy/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "server_deploy/http_client.hpp"

namespace ortformers::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error("cannot open " + log.string());
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out);
    throw std::runtime_error("fork() failed");
  }
  if (pid_ == 0) {
    // Only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) stop(2s);
}

bool ChildProcess::running() {
  return !wait(0ms).has_value();
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (r < 0) {
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (auto st = wait(grace)) return *st;
  signal(SIGKILL);
  return wait(10s).value_or(-1);
}

std::string ChildProcess::log_text() const {
  return read_file_or_empty(log_);
}

std::string read_file_or_empty(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ServeReplica start_replica(const fs::path& model, const fs::path& log, const std::vector<std::string>& extra) {
  ServeReplica r;
  r.port = free_loopback_port();
  std::vector<std::string> argv = {
      ORTFORMERS_CLI_PATH, "serve", "--model", model.string(), "--host", "127.0.0.1", "--port", std::to_string(r.port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  r.process = std::make_unique<ChildProcess>(argv, log);
  return r;
}

bool wait_healthy(std::uint16_t port, ChildProcess& process, std::chrono::milliseconds timeout,
                  const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process.running()) return false;
    if (http_request(port, "GET", path, {}, 2s).status == 200) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    const auto candidate = fs::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string find_nginx() {
  if (const char* env = std::getenv("NGINX"); env && *env) return ::access(env, X_OK) == 0 ? env : "";
  if (auto p = find_on_path("nginx"); !p.empty()) return p;
  return ::access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "";  // not on a non-root user's PATH
}

std::string render_nginx_conf(const std::string& shipped, const std::vector<std::uint16_t>& upstreams,
                              std::uint16_t listen_port) {
  std::istringstream in(shipped);
  std::ostringstream out;
  bool in_upstream = false, servers_written = false, listen_written = false;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    const std::string body = first == std::string::npos ? "" : line.substr(first);
    const std::string indent = line.substr(0, first == std::string::npos ? 0 : first);
    if (body.rfind("upstream ", 0) == 0) in_upstream = true;
    if (in_upstream && body.rfind("}", 0) == 0) in_upstream = false;
    if (in_upstream && body.rfind("server ", 0) == 0) {
      if (servers_written) continue;  // the shipped replicas are replaced by ours
      // "server 127.0.0.1:8081 max_fails=1 fail_timeout=5s;" -> keep what follows the address
      std::string rest = body.substr(7);
      rest = rest.substr(rest.find_first_not_of(' '));
      const auto space = rest.find_first_of(" ;");
      const std::string options = rest.substr(space);
      for (auto port : upstreams) out << indent << "server 127.0.0.1:" << port << options << "\n";
      servers_written = true;
      continue;
    }
    if (!in_upstream && body.rfind("listen ", 0) == 0) {
      // "listen 8080 backlog=4096;" -> "listen 127.0.0.1:PORT backlog=4096;"
      std::string rest = body.substr(7);
      rest = rest.substr(rest.find_first_of(" ;"));
      out << indent << "listen 127.0.0.1:" << listen_port << rest << "\n";
      listen_written = true;
      continue;
    }
    out << line << "\n";
  }
  if (!servers_written) throw std::runtime_error("deploy/nginx.conf: no `server` line in an upstream block");
  if (!listen_written) throw std::runtime_error("deploy/nginx.conf: no `listen` line");
  return out.str();
}

NginxFront start_nginx(const std::string& nginx, const fs::path& prefix, const std::vector<std::uint16_t>& upstreams) {
  fs::create_directories(prefix / "logs");
  fs::create_directories(prefix / "temp");
  // nginx's workers may run as another user when the tests run as root: the folders must be traversable.
  for (const fs::path& p : {prefix.parent_path(), prefix})
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const std::string shipped = read_file_or_empty(fs::path(ORTFORMERS_SOURCE_DIR) / "deploy" / "nginx.conf");
  if (shipped.empty()) throw std::runtime_error("deploy/nginx.conf missing");
  NginxFront front;
  front.port = free_loopback_port();
  front.logs = prefix / "logs";
  std::ofstream(prefix / "nginx.conf") << render_nginx_conf(shipped, upstreams, front.port);
  front.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{nginx, "-p", prefix.string() + "/", "-c", (prefix / "nginx.conf").string(), "-e",
                               (front.logs / "startup.log").string(), "-g", "daemon off; master_process off;"},
      front.logs / "stdout.log");
  if (!wait_healthy(front.port, *front.process, 20s, "/nginx-health")) {
    throw std::runtime_error("nginx did not start:\n" + front.process->log_text() +
                             read_file_or_empty(front.logs / "startup.log") +
                             read_file_or_empty(front.logs / "error.log"));
  }
  return front;
}

std::string NginxFront::stop_and_read_access_log() {
  process->signal(SIGQUIT);
  if (!process->wait(10s)) process->stop();
  return read_file_or_empty(logs / "access.log");
}

fs::path make_minilm_tiny_st_folder(const fs::path& fixtures, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path models = fixtures / "models" / "minilm-tiny-st";
  for (const auto& entry : fs::directory_iterator(models)) {
    const auto name = entry.path().filename();
    if (name == "model.safetensors") continue;  // the ONNX export below is the model
    fs::create_symlink(entry.path(), dir / name);
  }
  fs::create_symlink(fixtures / "onnx" / "minilm-tiny-st" / "model.onnx", dir / "model.onnx");
  return dir;
}

StReference load_minilm_tiny_st_reference(const fs::path& fixtures) {
  const Json ref = read_json_file(fixtures / "reference" / "minilm-tiny-st.json");
  const Json& st = ref.at("pipelines").at("sentence-embeddings");
  const auto& data = st.at("embeddings").at("data");
  const auto dim = st.at("embeddings").at("shape").at(1).get<std::size_t>();
  StReference r;
  for (std::size_t i = 0; i < st.at("inputs").size(); ++i) {
    const auto text = st.at("inputs").at(i).get<std::string>();
    if (text.empty()) continue;  // TEI answers an empty input with 422, not an embedding
    std::vector<float> row;
    for (std::size_t k = 0; k < dim; ++k) row.push_back(data.at(i * dim + k).get<float>());
    r.inputs.push_back(text);
    r.embeddings.push_back(std::move(row));
  }
  return r;
}

double max_abs_diff_row(const Json& values, const std::vector<float>& expected) {
  if (!values.is_array() || values.size() != expected.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (!values[i].is_number()) return INFINITY;
    m = std::max(m, std::fabs(values[i].get<double>() - expected[i]));
  }
  return m;
}

}  // namespace ortformers::testing
