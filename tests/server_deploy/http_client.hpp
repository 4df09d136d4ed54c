#pragma once
// A small blocking HTTP/1.1 client for loopback tests: one keep-alive connection, Content-Length and chunked
// bodies, every socket operation bounded by a timeout. Not a general client: no TLS, no redirects.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ortformers::testing {

struct HttpResponse {
  int status = 0;                              // 0 when no complete response arrived (see `error`)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // transport error (connect refused, reset, timeout, malformed response); empty on success
};

class HttpConnection {
 public:
  HttpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request on the open connection (connecting first if needed) and reads the response. A request that
  // fails on a reused connection the server closed while idle is not retried: the caller sees the error.
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});
  void close();

 private:
  bool connect_socket(std::string& error);
  bool send_all(const std::string& data, std::string& error);
  bool fill(std::string& error);  // reads more bytes into buf_
  bool read_line(std::string& line, std::string& error);
  bool read_exact(std::size_t n, std::string& out, std::string& error);

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
};

// One request on a fresh connection.
HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ortformers::testing
