#pragma once
// `ortformers serve` as a subprocess on a loopback ephemeral port, and a minimal blocking HTTP/1.1 client for the
// test's own reference calls. Both bounded in time; the server is stopped (SIGTERM, then SIGKILL) on destruction.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ortformers::testing {

struct HttpResponse {
  int status = 0;    // 0: no answer
  std::string head;  // status line and headers, lower-cased
  std::string body;
};

HttpResponse http_request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                          const std::string& content_type = "application/json",
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

class ServeProcess {
 public:
  // Starts `ortformers serve --model MODEL --served-model-name <folder name> --host 127.0.0.1 --port P ARGS...` (P: a
  // port the kernel just handed out)
  // and waits until GET /health answers 200. Throws with the end of the server's log when it does not come up.
  ServeProcess(const std::filesystem::path& model, const std::vector<std::string>& args,
               const std::filesystem::path& log_file, std::chrono::seconds ready_timeout = std::chrono::seconds(60));
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const;

 private:
  void stop();

  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace ortformers::testing
