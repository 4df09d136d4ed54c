#pragma once
// A small blocking HTTP/1.1 client for the server tests (Boost.Beast, keep-alive on one connection).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <string>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  Json json() const { return Json::parse(body); }
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port) : port_(port), stream_(ioc_) { connect(); }

  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& content_type = "application/json") {
    namespace http = boost::beast::http;
    if (!open_) connect();
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty() || method == "POST") req.set(http::field::content_type, content_type);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(stream_, buffer, parser);
    auto& res = parser.get();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
    if (!res.keep_alive()) close();
    return out;
  }
  HttpResult post(const std::string& target, const Json& body, const std::map<std::string, std::string>& headers = {}) {
    return request("POST", target, body.dump(), headers);
  }
  HttpResult get(const std::string& target) { return request("GET", target); }
  void close() {
    boost::beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
    open_ = false;
  }

 private:
  void connect() {
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    open_ = true;
  }
  unsigned short port_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  bool open_ = false;
};

}  // namespace ortformers::testing
