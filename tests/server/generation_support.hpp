#pragma once
// What the generation route tests read from answers: the events of a server-sent-events body and TGI's token ids.
#include <boost/asio.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

// The data lines of a server-sent-events body.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const auto end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    std::string event = body.substr(at, end - at);
    if (event.rfind("data: ", 0) == 0) out.push_back(event.substr(6));
    at = end + 2;
  }
  return out;
}

// The ids of TGI's `details.tokens`.
inline std::vector<std::int64_t> token_ids(const Json& details) {
  std::vector<std::int64_t> ids;
  for (const auto& t : details.at("tokens")) ids.push_back(t.at("id").get<std::int64_t>());
  return ids;
}

// A streaming request read incrementally on a raw socket (so a test can walk away mid-stream).
class RawStream {
 public:
  RawStream(unsigned short port, const std::string& path, const std::string& content_type, const std::string& body)
      : socket_(ioc_) {
    socket_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    const std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type +
                            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::asio::write(socket_, boost::asio::buffer(req));
  }
  RawStream(unsigned short port, const std::string& path, const Json& body)
      : RawStream(port, path, "application/json", body.dump()) {}
  // Reads until `n` SSE data events arrived (or the connection ended); returns how many.
  std::size_t read_events(std::size_t n) {
    char buf[4096];
    while (events() < n) {
      boost::system::error_code ec;
      const std::size_t got = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      data_.append(buf, got);
    }
    return events();
  }
  // Events so far (the raw bytes hold chunk-size lines between them).
  std::size_t events() const {
    std::size_t count = 0;
    for (std::size_t at = data_.find("data: "); at != std::string::npos; at = data_.find("data: ", at + 1)) ++count;
    return count;
  }
  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  std::string data_;
};

}  // namespace ortformers::testing
