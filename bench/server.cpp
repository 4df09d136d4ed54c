// Server benchmark tools (issue 11), driven by bench/server_bench.sh, which runs every workload in one go:
//   bench_server prepare DIR [FIXTURES]
//       DIR/serve: a MiniLM-L6-shaped checkpoint (bench/support), exported natively in the sentence-transformers
//                  form (mean pooling + Normalize in the graph), with bert-base-uncased's tokenizer.json;
//       DIR/tjs/minilm: the same checkpoint exported in the transformers form (last_hidden_state) in transformers.js's
//                  folder layout (onnx/model.onnx, config.json, tokenizer.json, tokenizer_config.json);
//       DIR/corpus.jsonl: the distinct STS-B sentences (../shared/data/stsb, both columns of dev + test), one JSON
//                  string a line (`ortformers run --inputs` and `load` read it);
//       DIR/short.json: {"text": the short sentence of the latency workload, "tokens": its token count}.
//   bench_server load --port P --corpus FILE [--path /embed] [--connections N] [--seconds S] [--rate R]
//                     [--warmup S] [--single TEXT]
//       N keep-alive connections, each POSTs {"inputs": <one sentence>} and waits for the answer (closed loop), or,
//       with --rate, requests are started at R per second in total on whichever connection is free (open loop).
//       Prints JSON: requests, per-status counts, transport errors, ok/s, p50/p90/p99 latency of the 200 answers
//       (ms), and of all answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/minilm_checkpoint.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using Clock = std::chrono::steady_clock;

namespace {

// ---- prepare -----------------------------------------------------------------------------------------------------

// RFC 4180 fields of one CSV line (quoted fields may contain commas and doubled quotes; STS-B has no newlines in
// fields).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

int prepare(const fs::path& dir, const fs::path& fixtures) {
  const fs::path vocab = fixtures / "vocab" / "bert-base-uncased";
  const fs::path stsb = fixtures / ".." / "data" / "stsb";
  for (const auto& p : {vocab / "vocab.txt", vocab / "tokenizer.json", stsb / "stsb-en-test.csv"}) {
    if (!fs::exists(p)) {
      std::cerr << "bench_server prepare: missing " << p << "\n";
      return 1;
    }
  }
  fs::create_directories(dir);
  const fs::path ckpt = bench::write_minilm_checkpoint(dir / "ckpt", vocab / "vocab.txt");
  fs::copy_file(vocab / "tokenizer.json", ckpt / "tokenizer.json", fs::copy_options::overwrite_existing);

  exporters::ExportOptions st;  // sentence-transformers form (modules.json is in the checkpoint)
  const auto serve = exporters::export_model(ckpt, dir / "serve", st);
  exporters::ExportOptions tf;
  tf.task = "feature-extraction";
  tf.library_name = "transformers";
  const auto plain = exporters::export_model(ckpt, dir / "tjs-export", tf);
  const fs::path tjs = dir / "tjs" / "minilm";
  fs::create_directories(tjs / "onnx");
  fs::rename(plain.onnx_path, tjs / "onnx" / "model.onnx");
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    if (fs::exists(ckpt / f)) fs::copy_file(ckpt / f, tjs / f, fs::copy_options::overwrite_existing);
  }
  fs::remove_all(dir / "tjs-export");

  std::set<std::string> seen;
  std::ofstream corpus(dir / "corpus.jsonl");
  std::size_t n = 0;
  for (const char* file : {"stsb-en-test.csv", "stsb-en-dev.csv"}) {
    std::ifstream in(stsb / file);
    for (std::string line; std::getline(in, line);) {
      const auto f = csv_fields(line);
      for (std::size_t i = 0; i < 2 && i < f.size(); ++i) {
        if (f[i].empty() || !seen.insert(f[i]).second) continue;
        corpus << Json(f[i]).dump() << "\n";
        ++n;
      }
    }
  }
  const std::string short_text = "A man is playing a guitar on stage.";
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(serve.out_dir);
  std::ofstream(dir / "short.json") << Json{{"text", short_text}, {"tokens", tok.encode(short_text).size()}}.dump()
                                    << "\n";
  std::cerr << "prepared " << dir << ": " << n << " sentences, " << serve.onnx_path << " ("
            << serve.onnx_bytes / (1 << 20) << " MiB)\n";
  return 0;
}

// ---- load --------------------------------------------------------------------------------------------------------

struct Conn {
  int fd = -1;
  bool connected = false, busy = false;
  std::string out;
  std::size_t out_off = 0;
  std::string in;
  Clock::time_point sent;
};

struct LoadOptions {
  std::uint16_t port = 0;
  std::string path = "/embed";
  std::vector<std::string> bodies;
  int connections = 1;
  double seconds = 10, warmup = 1, rate = 0;
};

struct Stats {
  std::map<int, long> status;
  long errors = 0;
  std::vector<double> ok_ms, all_ms;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

class Load {
 public:
  explicit Load(LoadOptions o) : o_(std::move(o)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    conns_.resize(static_cast<std::size_t>(o_.connections));
  }
  ~Load() {
    for (auto& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(ep_);
  }

  Json run() {
    const auto start = Clock::now();
    measure_from_ = start + to_dur(o_.warmup);
    end_ = measure_from_ + to_dur(o_.seconds);
    for (std::size_t i = 0; i < conns_.size(); ++i) open(i);
    std::vector<epoll_event> events(1024);
    long scheduled = 0;
    while (true) {
      const auto now = Clock::now();
      if (now >= end_ + std::chrono::seconds(30)) break;  // grace for answers still in flight
      if (now >= end_ && std::none_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.busy; })) break;
      // Open loop: start every request that is due on an idle connection.
      int timeout_ms = 50;
      if (o_.rate > 0 && now < end_) {
        while (true) {
          const auto due = start + to_dur(static_cast<double>(scheduled) / o_.rate);
          if (due > now) {
            // Rounded up: a wait rounded down to 0 ms would make this loop spin until the next request is due,
            // taking a core from the server on the same machine at high rates (only the load generator's CPU, not
            // the offered rate, changes: every request due is sent at the next wake-up, at most 1 ms late).
            timeout_ms = std::max(1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(due - now).count()));
            break;
          }
          if (idle_.empty()) {
            timeout_ms = 1;
            break;
          }
          const std::size_t i = idle_.front();
          idle_.pop_front();
          send(i);
          ++scheduled;
        }
      }
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int k = 0; k < n; ++k)
        handle(events[static_cast<std::size_t>(k)].data.u64, events[static_cast<std::size_t>(k)].events);
    }
    const double secs = o_.seconds;
    long ok = stats_.status.count(200) ? stats_.status[200] : 0;
    Json status = Json::object();
    long total = 0;
    for (const auto& [code, count] : stats_.status) {
      status[std::to_string(code)] = count;
      total += count;
    }
    return Json{{"connections", o_.connections},
                {"seconds", secs},
                {"rate", o_.rate},
                {"requests", total},
                {"status", status},
                {"transport_errors", stats_.errors},
                {"ok_per_s", static_cast<double>(ok) / secs},
                {"p50_ms", percentile(stats_.ok_ms, 0.50)},
                {"p90_ms", percentile(stats_.ok_ms, 0.90)},
                {"p99_ms", percentile(stats_.ok_ms, 0.99)},
                {"all_p50_ms", percentile(stats_.all_ms, 0.50)},
                {"all_p99_ms", percentile(stats_.all_ms, 0.99)}};
  }

 private:
  static Clock::duration to_dur(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  void open(std::size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c = Conn{};
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(o_.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void want_write(std::size_t i, bool on) {
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[i].fd, &ev);
  }

  void ready(std::size_t i) {
    if (Clock::now() >= end_) return;
    if (o_.rate > 0)
      idle_.push_back(i);
    else
      send(i);
  }

  void send(std::size_t i) {
    Conn& c = conns_[i];
    const std::string& body = o_.bodies[next_body_++ % o_.bodies.size()];
    c.out = "POST " + o_.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
    c.out_off = 0;
    c.in.clear();
    c.busy = true;
    c.sent = Clock::now();
    flush(i);
  }

  void flush(std::size_t i) {
    Conn& c = conns_[i];
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        want_write(i, true);
        return;
      } else {
        fail(i);
        return;
      }
    }
    want_write(i, false);
  }

  void fail(std::size_t i) {
    if (conns_[i].busy && conns_[i].sent >= measure_from_) ++stats_.errors;
    open(i);  // reconnect; it becomes ready again once connected
  }

  void handle(std::size_t i, std::uint32_t events) {
    Conn& c = conns_[i];
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        ++stats_.errors;
        // back off a little before reconnecting to a refusing server
        ::usleep(1000);
        open(i);
        return;
      }
      c.connected = true;
      want_write(i, false);
      ready(i);
      return;
    }
    if ((events & EPOLLOUT) && c.busy && c.out_off < c.out.size()) flush(i);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      char buf[65536];
      while (true) {
        const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
        if (n > 0) {
          c.in.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && errno == EAGAIN) break;
        fail(i);  // closed or reset
        return;
      }
      parse(i);
    }
  }

  void parse(std::size_t i) {
    Conn& c = conns_[i];
    const auto head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    std::string head = c.in.substr(0, head_end);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const auto cl = head.find("\r\ncontent-length:");
    if (cl == std::string::npos) {
      fail(i);  // the servers benchmarked here always send Content-Length
      return;
    }
    const std::size_t len = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    if (c.in.size() < head_end + 4 + len) return;
    const int status = std::atoi(c.in.c_str() + 9);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count();
    if (c.sent >= measure_from_ && c.sent < end_) {
      ++stats_.status[status];
      stats_.all_ms.push_back(ms);
      if (status == 200) stats_.ok_ms.push_back(ms);
    }
    c.busy = false;
    const bool close = head.find("\r\nconnection: close") != std::string::npos;
    c.in.erase(0, head_end + 4 + len);
    if (close)
      open(i);
    else
      ready(i);
  }

  LoadOptions o_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::deque<std::size_t> idle_;
  std::size_t next_body_ = 0;
  Clock::time_point measure_from_, end_;
  Stats stats_;
};

int load(int argc, char** argv) {
  LoadOptions o;
  std::string corpus, single;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      o.port = static_cast<std::uint16_t>(std::atoi(v.c_str()));
    else if (k == "--path")
      o.path = v;
    else if (k == "--corpus")
      corpus = v;
    else if (k == "--single")
      single = v;
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (k == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (k == "--warmup")
      o.warmup = std::atof(v.c_str());
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else {
      std::cerr << "bench_server load: unknown option " << k << "\n";
      return 2;
    }
  }
  if (!single.empty()) o.bodies.push_back(Json{{"inputs", single}}.dump());
  if (!corpus.empty()) {
    std::ifstream in(corpus);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) o.bodies.push_back(Json{{"inputs", Json::parse(line)}}.dump());
  }
  if (o.port == 0 || o.bodies.empty() || o.connections < 1) {
    std::cerr << "bench_server load: needs --port and --corpus FILE or --single TEXT\n";
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  std::cout << Load(o).run().dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "prepare" && argc >= 3) {
    const fs::path fixtures =
        argc > 3 ? fs::path(argv[3]) : fs::path(ORTFORMERS_BENCH_SOURCE_DIR) / ".." / "shared" / "fixtures";
    return prepare(argv[2], fixtures);
  }
  if (mode == "load") return load(argc, argv);
  std::cerr
      << "usage: bench_server prepare DIR [FIXTURES] | bench_server load --port P (--corpus FILE | --single TEXT) "
         "[--path /embed] [--connections N] [--seconds S] [--warmup S] [--rate R]\n";
  return 2;
}
