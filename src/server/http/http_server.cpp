#include "server/http/http_server.hpp"

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::server::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Response error_response(int status, const std::string& error_type, const std::string& message) {
  Response r;
  r.status = status;
  r.body = Json{{"error", message}, {"error_type", error_type}}.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

class HttpServer::Session : public std::enable_shared_from_this<HttpServer::Session> {
 public:
  Session(tcp::socket socket, HttpServer& server) : stream_(std::move(socket)), server_(server) {
    server_.connections_.fetch_add(1);
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Session() { server_.connections_.fetch_sub(1); }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
  }

 private:
  // Waits (keep-alive timeout) for the first byte of the next request, then gives the header its own deadline.
  void wait_for_request() {
    parser_.emplace();
    parser_->body_limit(server_.options_.payload_limit);
    parser_->header_limit(16 * 1024);
    if (buffer_.size() > 0) return read_header();
    stream_.expires_after(server_.options_.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    stream_.expires_after(server_.options_.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->fail(ec);
                               self->read_body();
                             });
  }

  void read_body() {
    auto& req = parser_->get();
    early_.reset();
    if (server_.early_) {
      Request head;
      head.method = std::string(req.method_string());
      const std::string_view target(req.target().data(), req.target().size());
      head.target = std::string(target.substr(0, target.find('?')));
      head.authorization = std::string(req[bhttp::field::authorization]);
      head.request_id = std::string(req["x-request-id"]);
      head.remote = remote_;
      early_ = server_.early_(head);
    }
    const auto expect = req[bhttp::field::expect];
    if (early_ && beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      // The client waits for 100 before sending the body: answer now and close instead.
      Response res = std::move(*early_);
      early_.reset();
      return send(std::move(res), false);
    }
    if (beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      if (parser_->content_length() && *parser_->content_length() > server_.options_.payload_limit) {
        return fail(bhttp::error::body_limit);
      }
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_rest();
      });
      return;
    }
    read_rest();
  }

  void read_rest() {
    stream_.expires_after(server_.options_.keep_alive_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec);
      if (self->early_) {
        // Answered from the header: the body was read only to keep the connection usable, and is dropped.
        Response res = std::move(*self->early_);
        self->early_.reset();
        return self->send(std::move(res), self->parser_->get().keep_alive() && self->server_.accepting_.load());
      }
      self->handle();
    });
  }

  void fail(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return send(error_response(413, "Validation",
                                 "the request body is larger than the payload limit of " +
                                     std::to_string(server_.options_.payload_limit) + " bytes"),
                  false);
    }
    if (ec == bhttp::error::header_limit) {
      return send(error_response(431, "Validation", "the request header is larger than 16384 bytes"), false);
    }
    if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == bhttp::error::partial_message) {
      return close();
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return send(error_response(400, "Validation", "malformed HTTP request: " + ec.message()), false);
    }
    close();
  }

  void handle() {
    auto& req = parser_->get();
    Request r;
    r.method = std::string(req.method_string());
    const std::string target(req.target());
    const auto q = target.find('?');
    r.target = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = std::move(req.body());
    r.content_type = std::string(req[bhttp::field::content_type]);
    r.authorization = std::string(req[bhttp::field::authorization]);
    r.request_id = std::string(req["x-request-id"]);
    r.remote = remote_;
    keep_alive_ = req.keep_alive();
    server_.active_.fetch_add(1);
    auto self = shared_from_this();
    auto replied = std::make_shared<std::atomic<bool>>(false);
    peer_closed_ = std::make_shared<std::atomic<bool>>(false);
    r.connection = std::make_shared<StreamConnection>(self, replied, peer_closed_);
    // Watch the socket while the request is answered: a client that goes away is seen at once (closed()).
    stream_.expires_never();
    start_watch();
    Reply reply = [self, replied](Response res) {
      if (replied->exchange(true)) return;
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->server_.active_.fetch_sub(1);
        self->send(std::move(res), self->keep_alive_ && self->server_.accepting_.load());
      });
    };
    try {
      server_.handler_(std::move(r), reply);
    } catch (const std::exception& e) {
      reply(error_response(500, "Backend", std::string("internal error: ") + e.what()));
    }
  }

  void send(Response res, bool keep_alive) {
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(res.status), 11);
    msg->set(bhttp::field::server, "ortformers");
    msg->set(bhttp::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) msg->set(k, v);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    stream_.expires_after(server_.options_.keep_alive_timeout);
    bhttp::async_write(stream_, *msg, [self = shared_from_this(), msg, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive || (self->peer_closed_ && self->peer_closed_->load())) return self->close();
      if (self->watching_) {
        // The watch read must end before the next request is read: cancel it, go on in its handler.
        self->resume_after_watch_ = true;
        beast::error_code ignored;
        self->stream_.socket().cancel(ignored);
        return;
      }
      self->wait_for_request();
    });
  }

 public:
  // Server-sent events and other chunked bodies (Connection::begin_stream / write / end); on the strand.
  void begin_stream(Response head) {
    std::string h = "HTTP/1.1 " + std::to_string(head.status) + " " +
                    std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(head.status))) +
                    "\r\nServer: ortformers\r\nContent-Type: " + head.content_type +
                    "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n";
    for (const auto& [k, v] : head.headers) h += k + ": " + v + "\r\n";
    h += "\r\n";
    queue_raw(std::move(h));
  }
  void write_chunk(std::string data) {
    if (data.empty()) return;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    queue_raw(size + data + "\r\n");
  }
  void end_stream() {
    server_.active_.fetch_sub(1);
    ending_ = true;
    queue_raw("0\r\n\r\n");
  }

 private:
  void queue_raw(std::string bytes) {
    if (write_failed_) {
      if (ending_) close();
      return;
    }
    out_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }
  void write_next() {
    if (out_.empty()) {
      writing_ = false;
      if (ending_) close();
      return;
    }
    writing_ = true;
    asio::async_write(
        stream_.socket(), asio::buffer(out_.front()),
        asio::bind_executor(stream_.get_executor(), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) {
            self->write_failed_ = true;
            if (self->peer_closed_) self->peer_closed_->store(true);
            self->out_.clear();
            self->writing_ = false;
            self->close();
            return;
          }
          self->out_.pop_front();
          self->write_next();
        }));
  }

  void start_watch() {
    watching_ = true;
    stream_.socket().async_read_some(
        asio::buffer(watch_buf_),
        asio::bind_executor(stream_.get_executor(), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->on_watch(ec, n);
        }));
  }
  void on_watch(beast::error_code ec, std::size_t n) {
    watching_ = false;
    if (!ec && n > 0) {
      // Bytes of a pipelined next request: kept for it (more than the read buffer holds while a request is being
      // answered: the connection is dropped).
      if (buffer_.max_size() - buffer_.size() < n) {
        if (peer_closed_) peer_closed_->store(true);
        return close();
      }
      auto room = buffer_.prepare(n);
      std::memcpy(room.data(), watch_buf_.data(), n);
      buffer_.commit(n);
      if (resume_after_watch_) {
        resume_after_watch_ = false;
        return wait_for_request();
      }
      return start_watch();
    }
    if (ec == asio::error::operation_aborted && resume_after_watch_) {
      resume_after_watch_ = false;
      return wait_for_request();
    }
    if (peer_closed_) peer_closed_->store(true);  // end of stream, reset: the client went away
    if (resume_after_watch_) {
      resume_after_watch_ = false;
      close();
    }
  }

  class StreamConnection : public Connection {
   public:
    StreamConnection(std::shared_ptr<Session> session, std::shared_ptr<std::atomic<bool>> replied,
                     std::shared_ptr<std::atomic<bool>> closed)
        : session_(std::move(session)), replied_(std::move(replied)), closed_(std::move(closed)) {}
    bool closed() const noexcept override { return closed_->load(); }
    void begin_stream(Response head) override {
      if (replied_->exchange(true)) return;
      started_ = true;
      asio::post(session_->stream_.get_executor(),
                 [s = session_, head = std::move(head)]() mutable { s->begin_stream(std::move(head)); });
    }
    void write(std::string chunk) override {
      if (!started_ || ended_ || closed()) return;
      asio::post(session_->stream_.get_executor(),
                 [s = session_, chunk = std::move(chunk)]() mutable { s->write_chunk(std::move(chunk)); });
    }
    void end() override {
      if (!started_ || ended_.exchange(true)) return;
      asio::post(session_->stream_.get_executor(), [s = session_] { s->end_stream(); });
    }

   private:
    std::shared_ptr<Session> session_;
    std::shared_ptr<std::atomic<bool>> replied_;
    std::shared_ptr<std::atomic<bool>> closed_;
    std::atomic<bool> started_{false};
    std::atomic<bool> ended_{false};
  };

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer& server_;
  beast::flat_buffer buffer_{64 * 1024};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<Response> early_;  // the response decided from the header (overload), sent once the body is read
  bool keep_alive_ = true;
  std::string remote_;
  std::shared_ptr<std::atomic<bool>> peer_closed_;  // of the request being answered
  std::array<char, 4096> watch_buf_{};
  bool watching_ = false;
  bool resume_after_watch_ = false;
  std::deque<std::string> out_;  // chunked body being written
  bool writing_ = false;
  bool ending_ = false;
  bool write_failed_ = false;
};

HttpServer::HttpServer(const ServerOptions& options, Handler handler)
    : options_(options), handler_(std::move(handler)), acceptor_(ioc_) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) throw InvalidArgument("serve: --hostname is not an IP address: '" + options_.host + "'");
  tcp::endpoint ep(address, static_cast<unsigned short>(options_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw RuntimeError("serve: cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                       ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accepting_ = true;
  work_.emplace(ioc_.get_executor());
  do_accept();
  const std::size_t n = std::max<std::size_t>(1, options_.io_threads);
  for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

void HttpServer::do_accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (!accepting_) return;
    if (ec) {
      // Out of file descriptors (EMFILE) and the like: pause before accepting again instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) {
        if (accepting_) do_accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<Session>(std::move(socket), *this)->start();
    do_accept();
  });
}

void HttpServer::stop_accepting() {
  if (!accepting_.exchange(false)) return;
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
}

void HttpServer::stop() {
  stop_accepting();
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace ortformers::server::http
