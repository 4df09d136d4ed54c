#pragma once
// The HTTP front: Boost.Beast over Asio, a fixed pool of io threads serving every connection asynchronously (no
// thread per connection), HTTP/1.1 keep-alive, a deadline for the request header (slowloris), a body limit
// (--payload-limit -> 413), malformed HTTP -> 400 and close. Handlers answer through a Reply callable from any thread.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ortformers/server/options.hpp"

namespace ortformers::server::http {

struct Response;

// The connection a request came on, as its handler sees it. closed(): the client closed or reset the connection (a
// read that the server keeps pending while the request is answered sees it at once). A streamed answer (server-sent
// events) is begin_stream(head) + write(chunk)... + end(), instead of the Reply: the header goes out with
// Transfer-Encoding: chunked and Connection: close, each write as one chunk, end() sends the last chunk and closes
// the connection. Any thread; writes after closed() are dropped.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual bool closed() const noexcept = 0;
  virtual void begin_stream(Response head) = 0;
  virtual void write(std::string chunk) = 0;
  virtual void end() = 0;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path (query string removed)
  std::string query;   // after '?', "" when none
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string request_id;                  // x-request-id header ("" when absent)
  std::string remote;                      // peer address
  std::shared_ptr<Connection> connection;  // set for requests handed to the handler
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Reply = std::function<void(Response)>;  // call exactly once, from any thread
using Handler = std::function<void(Request, Reply)>;
// Called on a network thread once a request's header is read, with the request minus its body: a response to send
// instead of calling the handler (the body is read and dropped, never parsed), or nothing to go on. Must be cheap.
using EarlyResponse = std::function<std::optional<Response>(const Request& head)>;

// A TEI error body {"error": message, "error_type": type} with its status.
Response error_response(int status, const std::string& error_type, const std::string& message);

class HttpServer {
 public:
  HttpServer(const ServerOptions& options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Set before start(): the overload check made on a request's header (see EarlyResponse).
  void set_early_response(EarlyResponse early) { early_ = std::move(early); }
  // Binds host:port (port 0 = ephemeral), listens and starts the io threads. RuntimeError when it cannot bind.
  void start();
  unsigned short port() const noexcept { return port_; }
  // Closes the listening socket: no new connections; connections finishing a request are closed after it.
  void stop_accepting();
  // Requests read and not yet answered.
  std::size_t active_requests() const noexcept { return active_.load(); }
  std::size_t open_connections() const noexcept { return connections_.load(); }
  // Stops the io threads and closes every connection.
  void stop();

 private:
  class Session;
  void do_accept();

  // Declared before the io_context: sessions still queued in it are destroyed with it and touch these.
  ServerOptions options_;
  Handler handler_;
  EarlyResponse early_;
  std::atomic<bool> accepting_{false};
  std::atomic<std::size_t> active_{0};
  std::atomic<std::size_t> connections_{0};
  unsigned short port_ = 0;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Keeps the io threads running while no asynchronous operation is pending (after SIGTERM closed the acceptor,
  // every open request may be waiting on the engine; its reply is posted to the io_context later).
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace ortformers::server::http
