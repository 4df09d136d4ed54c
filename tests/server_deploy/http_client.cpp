#include "server_deploy/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace ortformers::testing {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool wait_fd(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc = 0;
  do rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

HttpConnection::HttpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpConnection::~HttpConnection() {
  close();
}

void HttpConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  pos_ = 0;
}

bool HttpConnection::connect_socket(std::string& error) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    error = "not an IPv4 address: " + host_;
    close();
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(errno);
    close();
    return false;
  }
  if (!wait_fd(fd_, POLLOUT, timeout_)) {
    error = "connect: timeout";
    close();
    return false;
  }
  int so_error = 0;
  socklen_t len = sizeof(so_error);
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    error = std::string("connect: ") + std::strerror(so_error);
    close();
    return false;
  }
  return true;
}

bool HttpConnection::send_all(const std::string& data, std::string& error) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLOUT, timeout_)) {
        error = "send: timeout";
        return false;
      }
    } else {
      error = std::string("send: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool HttpConnection::fill(std::string& error) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char tmp[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      error = "connection closed by the server";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      error = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    if (!wait_fd(fd_, POLLIN, timeout_)) {
      error = "recv: timeout";
      return false;
    }
  }
}

bool HttpConnection::read_line(std::string& line, std::string& error) {
  for (;;) {
    const auto eol = buf_.find("\r\n", pos_);
    if (eol != std::string::npos) {
      line = buf_.substr(pos_, eol - pos_);
      pos_ = eol + 2;
      return true;
    }
    if (buf_.size() - pos_ > 65536) {
      error = "header line over 64 KiB";
      return false;
    }
    if (!fill(error)) return false;
  }
}

bool HttpConnection::read_exact(std::size_t n, std::string& out, std::string& error) {
  while (buf_.size() - pos_ < n)
    if (!fill(error)) return false;
  out.append(buf_, pos_, n);
  pos_ += n;
  return true;
}

HttpResponse HttpConnection::request(const std::string& method, const std::string& target, const std::string& body,
                                     const std::map<std::string, std::string>& headers) {
  HttpResponse r;
  if (fd_ < 0 && !connect_socket(r.error)) return r;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) + "\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type = has_type || lower(k) == "content-type";
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  auto fail = [&](HttpResponse& resp) {
    resp.status = 0;
    close();
    return resp;
  };
  if (!send_all(req, r.error)) return fail(r);

  std::string line;
  if (!read_line(line, r.error)) return fail(r);
  // "HTTP/1.1 200 OK"
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
    r.error = "malformed status line: " + line.substr(0, 80);
    return fail(r);
  }
  r.status = std::atoi(line.c_str() + 9);
  for (;;) {
    if (!read_line(line, r.error)) return fail(r);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      r.error = "malformed header line: " + line.substr(0, 80);
      return fail(r);
    }
    r.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  const bool head = method == "HEAD";
  const auto te = r.headers.find("transfer-encoding");
  const auto cl = r.headers.find("content-length");
  if (head || r.status == 204 || r.status == 304) {
    // no body
  } else if (te != r.headers.end() && lower(te->second).find("chunked") != std::string::npos) {
    for (;;) {
      if (!read_line(line, r.error)) return fail(r);
      const std::size_t size = std::strtoul(line.c_str(), nullptr, 16);
      if (size == 0) {
        do
          if (!read_line(line, r.error)) return fail(r);
        while (!line.empty());
        break;
      }
      if (!read_exact(size, r.body, r.error)) return fail(r);
      std::string crlf;
      if (!read_exact(2, crlf, r.error)) return fail(r);
    }
  } else if (cl != r.headers.end()) {
    if (!read_exact(std::strtoul(cl->second.c_str(), nullptr, 10), r.body, r.error)) return fail(r);
  } else {
    std::string ignored;  // read to end of connection
    while (fill(ignored)) {
    }
    r.body = buf_.substr(pos_);
    close();
    return r;
  }
  const auto conn = r.headers.find("connection");
  if (conn != r.headers.end() && lower(conn->second) == "close") close();
  return r;
}

HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body, std::chrono::milliseconds timeout) {
  HttpConnection c("127.0.0.1", port, timeout);
  return c.request(method, target, body);
}

}  // namespace ortformers::testing
