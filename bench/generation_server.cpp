// Token-stream load generator for `ortformers serve` on a generative model (issue 22), driven by
// bench/generation_server_bench.sh:
//   bench_generation_server streams --port P --model DIR [--streams N] [--prompt-tokens T] [--new-tokens M]
//                                   [--rounds R] [--path /generate_stream] [--stsb FOLDER]
//       N concurrent clients, each opens R streams one after the other: POST /generate_stream (TGI's body) with a
//       prompt of exactly T tokens of the model's tokenizer (STS-B sentences, a different window per client) and
//       max_new_tokens M, and reads the server-sent events as they arrive. Prints JSON: streams done / failed,
//       generated tokens, wall seconds, generated tokens/s over the whole run, time to first token p50/p99 (ms),
//       inter-token latency p50/p99 (ms, gaps between consecutive token events of a stream).
//   bench_generation_server prompts --model DIR [--streams N] [--prompt-tokens T]
//       The token ids the server sees for those N prompts (special tokens added), as one JSON array of arrays: the
//       same input for llama.cpp's parallel sequences (bench/llama_cpp/parallel.mjs).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using Clock = std::chrono::steady_clock;

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Sentences of the STS-B splits (both columns), in file order: the text prompts are cut from.
std::string stsb_text(const fs::path& folder) {
  std::string text;
  for (const char* file : {"stsb-en-test.csv", "stsb-en-dev.csv"}) {
    std::ifstream in(folder / file);
    for (std::string line; std::getline(in, line);) {
      // "sentence 1,sentence 2,score": quoted fields keep their commas; the quotes are dropped
      std::string field;
      bool quoted = false;
      int column = 0;
      for (char c : line + ",") {
        if (c == '"') {
          quoted = !quoted;
        } else if (c == ',' && !quoted) {
          if (column < 2 && !field.empty()) text += field + " ";
          field.clear();
          ++column;
        } else {
          field += c;
        }
      }
    }
  }
  return text;
}

// One stream's timings.
struct StreamResult {
  bool ok = false;
  std::string error;
  Clock::time_point start;
  std::vector<Clock::time_point> token_times;
};

// Reads a chunked (or close-delimited) HTTP response incrementally and calls on_event(data) for every complete
// `data:` line of the server-sent events.
class EventReader {
 public:
  template <class F>
  bool feed(const char* p, std::size_t n, F&& on_event) {
    raw_.append(p, n);
    if (!headers_done_) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      const std::string head = raw_.substr(0, end);
      status_ = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
      raw_.erase(0, end + 4);
      headers_done_ = true;
    }
    if (chunked_) {
      for (;;) {
        if (chunk_left_ == 0) {
          const auto eol = raw_.find("\r\n");
          if (eol == std::string::npos) break;
          const std::string size_line = raw_.substr(0, eol);
          if (size_line.empty()) {  // the CRLF after a chunk's data
            raw_.erase(0, 2);
            continue;
          }
          chunk_left_ = std::strtoul(size_line.c_str(), nullptr, 16);
          raw_.erase(0, eol + 2);
          if (chunk_left_ == 0) {
            finished_ = true;
            break;
          }
        }
        const std::size_t take = std::min(chunk_left_, raw_.size());
        if (take == 0) break;
        body_.append(raw_, 0, take);
        raw_.erase(0, take);
        chunk_left_ -= take;
      }
    } else {
      body_ += raw_;
      raw_.clear();
    }
    for (std::size_t eol; (eol = body_.find('\n')) != std::string::npos;) {
      std::string line = body_.substr(0, eol);
      body_.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) on_event(line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5));
    }
    return true;
  }
  int status() const { return status_; }
  bool finished() const { return finished_; }
  const std::string& leftover() const { return body_; }

 private:
  std::string raw_, body_;
  bool headers_done_ = false, chunked_ = false, finished_ = false;
  std::size_t chunk_left_ = 0;
  int status_ = 0;
};

StreamResult run_stream(std::uint16_t port, const std::string& path, const std::string& body) {
  StreamResult r;
  r.start = Clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{120, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    r.error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return r;
  }
  const std::string req =
      "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
      "Accept: text/event-stream\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  for (std::size_t off = 0; off < req.size();) {
    const ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      r.error = "send failed";
      ::close(fd);
      return r;
    }
    off += static_cast<std::size_t>(n);
  }
  EventReader reader;
  bool final_event = false;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reader.feed(buf, static_cast<std::size_t>(n), [&](const std::string& data) {
      const Json e = Json::parse(data, nullptr, false);
      if (!e.is_object()) return;
      if (e.contains("error")) r.error = e.dump();
      if (e.contains("token")) r.token_times.push_back(Clock::now());
      if (e.contains("generated_text") && e["generated_text"].is_string()) final_event = true;
    });
    if (reader.finished()) break;
  }
  ::close(fd);
  if (reader.status() != 200 && r.error.empty())
    r.error = "status " + std::to_string(reader.status()) + " " + reader.leftover().substr(0, 200);
  if (r.error.empty() && !final_event) r.error = "no final event";
  r.ok = r.error.empty();
  return r;
}

// One prompt per client of exactly `prompt_tokens` tokens of the model's tokenizer (no special tokens: the server
// adds the tokenizer's own, as TGI does), a different window of the STS-B text for each client.
std::vector<std::string> make_prompts(const fs::path& model, const fs::path& stsb, int n, std::size_t prompt_tokens) {
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(model);
  const std::string text = stsb_text(stsb);
  if (text.empty()) throw std::runtime_error("no STS-B sentences under " + stsb.string());
  tokenizers::TokenizeOptions no_special;
  no_special.add_special_tokens = false;
  const std::vector<std::int64_t> ids = tok.encode(text.substr(0, 400000), no_special).ids;
  std::vector<std::string> prompts;
  for (int c = 0; c < n; ++c) {
    const std::size_t at = (static_cast<std::size_t>(c) * 997) % (ids.size() - prompt_tokens);
    const auto first = ids.begin() + static_cast<std::ptrdiff_t>(at);
    prompts.push_back(
        tok.decode(std::vector<std::int64_t>(first, first + static_cast<std::ptrdiff_t>(prompt_tokens)), true));
  }
  return prompts;
}

// The token ids the server will see for each prompt (special tokens added, as the server does): llama.cpp's input.
int prompt_ids(const fs::path& model, const fs::path& stsb, int n, std::size_t prompt_tokens) {
  const auto tok = tokenizers::AutoTokenizer::from_pretrained(model);
  Json out = Json::array();
  for (const auto& p : make_prompts(model, stsb, n, prompt_tokens)) out.push_back(tok.encode(p).ids);
  std::cout << out.dump() << std::endl;
  return 0;
}

int streams(int argc, char** argv) {
  std::uint16_t port = 0;
  fs::path model, stsb = fs::path(ORTFORMERS_BENCH_SOURCE_DIR) / ".." / "shared" / "data" / "stsb";
  std::string path = "/generate_stream";
  int n_streams = 1, rounds = 1;
  std::size_t prompt_tokens = 128, new_tokens = 128;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--model")
      model = v;
    else if (k == "--streams")
      n_streams = std::stoi(v);
    else if (k == "--rounds")
      rounds = std::stoi(v);
    else if (k == "--prompt-tokens")
      prompt_tokens = std::stoul(v);
    else if (k == "--new-tokens")
      new_tokens = std::stoul(v);
    else if (k == "--path")
      path = v;
    else if (k == "--stsb")
      stsb = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  if (std::string(argv[1]) == "prompts" && !model.empty()) return prompt_ids(model, stsb, n_streams, prompt_tokens);
  if (port == 0 || model.empty()) {
    std::cerr << "usage: bench_generation_server streams --port P --model DIR [--streams N] ...\n";
    return 2;
  }
  const std::vector<std::string> prompts = make_prompts(model, stsb, n_streams, prompt_tokens);
  std::vector<StreamResult> results;
  std::mutex mu;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < n_streams; ++c) {
    threads.emplace_back([&, c] {
      for (int k = 0; k < rounds; ++k) {
        const Json body{{"inputs", prompts[static_cast<std::size_t>(c)]},
                        {"parameters", {{"max_new_tokens", new_tokens}, {"do_sample", false}}}};
        StreamResult r = run_stream(port, path, body.dump());
        std::lock_guard lock(mu);
        results.push_back(std::move(r));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = ms_between(t0, Clock::now()) / 1000.0;
  std::vector<double> ttft, itl;
  std::size_t tokens = 0, ok = 0;
  std::string first_error;
  for (const auto& r : results) {
    if (!r.ok) {
      if (first_error.empty()) first_error = r.error;
      continue;
    }
    ++ok;
    tokens += r.token_times.size();
    if (!r.token_times.empty()) ttft.push_back(ms_between(r.start, r.token_times.front()));
    for (std::size_t i = 1; i < r.token_times.size(); ++i)
      itl.push_back(ms_between(r.token_times[i - 1], r.token_times[i]));
  }
  Json out{{"streams", n_streams},
           {"rounds", rounds},
           {"prompt_tokens", prompt_tokens},
           {"new_tokens", new_tokens},
           {"ok", ok},
           {"failed", results.size() - ok},
           {"generated_tokens", tokens},
           {"seconds", wall},
           {"tokens_per_s", static_cast<double>(tokens) / wall},
           {"ttft_ms_p50", percentile(ttft, 0.5)},
           {"ttft_ms_p99", percentile(ttft, 0.99)},
           {"itl_ms_p50", percentile(itl, 0.5)},
           {"itl_ms_p99", percentile(itl, 0.99)}};
  if (!first_error.empty()) out["first_error"] = first_error;
  std::cout << out.dump() << std::endl;
  return ok == results.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "streams" || mode == "prompts") return streams(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_generation_server: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: bench_generation_server streams --port P --model DIR [--streams N] [--prompt-tokens T] "
               "[--new-tokens M] [--rounds R]\n";
  return 2;
}
