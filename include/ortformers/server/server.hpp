#pragma once
// `ortformers serve`: a text-embeddings-inference-compatible HTTP server over one model (see docs/serving.md).
//   Server server(options);
//   server.start();           // listens, loads the model, runs a warm-up inference, then reports ready
//   server.port();            // the bound port (options.port 0 = ephemeral)
//   server.wait_for_signal(); // SIGTERM/SIGINT: stop accepting, drain in-flight requests, return
#include <memory>
#include <string>

#include "ortformers/server/options.hpp"

namespace ortformers::server {

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the port (GET /health answers 503 meanwhile), loads the model, warms it up, then marks the server ready
  // and logs model, task, model type, limits and URL. Throws (ortformers::Error) when the model cannot be served.
  void start();
  unsigned short port() const;
  bool ready() const;
  // Stops accepting, waits up to options.drain_timeout for in-flight requests, then stops every thread.
  // Returns true when every in-flight request was answered in time.
  bool stop();
  // Blocks until SIGTERM or SIGINT, then stop(). Returns stop()'s result.
  bool wait_for_signal();
  // Prometheus text of the metrics (for tests).
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `ortformers serve`: start, log, wait for a signal, drain. Returns the process exit status (0 after a clean drain).
int serve(const ServerOptions& options);

}  // namespace ortformers::server
