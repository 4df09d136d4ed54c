#include "fake_hub.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "hub/hashing.hpp"

namespace fs = std::filesystem;

namespace ortformers::hub::testing {
namespace {

int make_listener(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind() failed");
  if (::listen(fd, 64) != 0) throw std::runtime_error("listen() failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

bool send_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(char(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

}  // namespace

std::string FakeHub::sha256(const std::string& data) {
  return detail::sha256_hex(data);
}
std::string FakeHub::git_sha1(const std::string& data) {
  return detail::git_blob_sha1_hex(data);
}
bool FakeHub::is_lfs(const std::string& path, const std::string& content) {
  auto ends = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return content.size() > 100000 || ends(".onnx") || ends(".safetensors") || ends(".bin") || ends("_data");
}

FakeHub::FakeHub() {
  listen_fd_ = make_listener(&port_);
  acceptor_ = std::thread([this] { serve(); });
}

FakeHub::~FakeHub() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard<std::mutex> lk(threads_mu_);
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

std::string FakeHub::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeHub::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, 50);
    if (rc <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lk(threads_mu_);
    workers_.emplace_back([this, fd] {
      handle(fd);
      ::close(fd);
    });
  }
}

void FakeHub::handle(int fd) {
  // Read the request head (no request bodies: GET and HEAD only).
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos && data.size() < 65536) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    data.append(buf, std::size_t(n));
  }
  LoggedRequest req;
  std::istringstream in(data.substr(0, data.find("\r\n\r\n")));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::istringstream rl(line);
  rl >> req.method >> req.target;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    req.headers[lower(line.substr(0, colon))] = v;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    log_.push_back(req);
  }
  Response res = route(req);
  res.head = req.method == "HEAD";
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + reason(res.status) + "\r\n";
  bool has_length = false;
  for (const auto& [k, v] : res.headers) {
    head += k + ": " + v + "\r\n";
    if (lower(k) == "content-length") has_length = true;
  }
  if (!has_length) head += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  if (!send_all(fd, head.data(), head.size())) return;
  if (res.head) return;
  std::size_t limit = res.cut_after ? std::min(*res.cut_after, res.body.size()) : res.body.size();
  std::size_t chunk = res.throttle_chunk ? res.throttle_chunk : limit;
  for (std::size_t off = 0; off < limit;) {
    std::size_t n = std::min(chunk, limit - off);
    if (!send_all(fd, res.body.data() + off, n)) return;
    off += n;
    if (res.throttle_ms && off < limit) std::this_thread::sleep_for(std::chrono::milliseconds(res.throttle_ms));
  }
  if (res.cut_after) ::shutdown(fd, SHUT_RDWR);  // the connection drops mid-file
}

bool FakeHub::take_fault(std::map<std::string, std::pair<int, int>>& faults, const std::string& file, int* value) {
  auto it = faults.find(file);
  if (it == faults.end() || it->second.second <= 0) return false;
  --it->second.second;
  *value = it->second.first;
  return true;
}

const FakeHub::Commit* FakeHub::find_commit(const Repo& repo, const std::string& rev) const {
  auto r = repo.refs.find(rev);
  if (r != repo.refs.end()) return &repo.commits[r->second];
  for (const auto& c : repo.commits)
    if (c.sha == rev) return &c;
  return nullptr;
}

namespace {

// "<rev>/<file>" with a non-empty rev without '/' and a non-empty file.
bool split_rev_file(std::string_view tail, std::string& rev, std::string& file) {
  const auto slash = tail.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == tail.size()) return false;
  rev = tail.substr(0, slash);
  file = tail.substr(slash + 1);
  return true;
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

// Routes as the Hub's URL patterns (written without std::regex, whose GCC 12 headers warn at -O1):
//   /api/models/<id>/revision/<rev>   (id may contain '/', rev may not)
//   /cdn/<sha256>
//   /<id>/resolve/<rev>/<file>        (the first "/resolve/" after a non-empty id that leaves rev/file)
FakeHub::Response FakeHub::route(const LoggedRequest& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const std::string_view p(path);
  constexpr std::string_view api = "/api/models/", rev_sep = "/revision/", cdn = "/cdn/", res = "/resolve/";
  if (p.starts_with(api)) {
    const auto at = p.rfind(rev_sep);
    if (at != std::string_view::npos && at > api.size()) {
      const auto rev = p.substr(at + rev_sep.size());
      if (!rev.empty() && rev.find('/') == std::string_view::npos)
        return this->api(req, std::string(p.substr(api.size(), at - api.size())), percent_decode(std::string(rev)));
    }
  }
  if (p.starts_with(cdn) && is_sha256_hex(p.substr(cdn.size())))
    return this->cdn(req, std::string(p.substr(cdn.size())));
  for (auto at = p.find(res, 2); at != std::string_view::npos; at = p.find(res, at + 1)) {
    std::string rev, file;
    if (split_rev_file(p.substr(at + res.size()), rev, file))
      return resolve(req, std::string(p.substr(1, at - 1)), percent_decode(rev), percent_decode(file));
  }
  Response r;
  r.status = 404;
  r.body = "not found";
  return r;
}

FakeHub::Response FakeHub::resolve(const LoggedRequest& req, const std::string& repo_id, const std::string& rev,
                                   const std::string& file) {
  Response r;
  int value = 0;
  bool delayed = false, failed = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    delayed = take_fault(delays_, file, &value);
  }
  if (delayed) std::this_thread::sleep_for(std::chrono::milliseconds(value));
  std::lock_guard<std::mutex> lk(mu_);
  if (auto rn = renames_.find(repo_id); rn != renames_.end()) {
    r.status = 307;
    std::string rest = req.target.substr(1 + repo_id.size());
    r.headers.push_back({"Location", "/" + rn->second + rest});
    return r;
  }
  failed = take_fault(fails_, file, &value);
  if (failed) {
    r.status = value;
    r.body = "injected failure";
    return r;
  }
  auto it = repos_.find(repo_id);
  if (it == repos_.end()) {
    r.status = 401;
    r.headers.push_back({"X-Error-Code", "RepoNotFound"});
    r.headers.push_back({"X-Error-Message", "Repository not found"});
    return r;
  }
  const Repo& repo = it->second;
  if (repo.token) {
    auto auth = req.headers.find("authorization");
    if (auth == req.headers.end() || auth->second != "Bearer " + *repo.token) {
      r.status = 401;
      r.headers.push_back({"X-Error-Code", repo.gated ? "GatedRepo" : "RepoNotFound"});
      r.headers.push_back({"X-Error-Message", auth == req.headers.end()
                                                  ? "Repository not found"
                                                  : "Invalid credentials in Authorization header"});
      return r;
    }
  }
  const Commit* c = find_commit(repo, rev);
  if (!c) {
    r.status = 404;
    r.headers.push_back({"X-Error-Code", "RevisionNotFound"});
    return r;
  }
  auto f = c->files.find(file);
  if (f == c->files.end()) {
    r.status = 404;
    r.headers.push_back({"X-Error-Code", "EntryNotFound"});
    r.headers.push_back({"X-Repo-Commit", c->sha});
    return r;
  }
  const std::string& content = f->second;
  std::string commit_header = c->sha;
  if (garbage_ == Garbage::BadCommit) commit_header = "not-a-commit";
  if (garbage_ == Garbage::BinaryHeader) commit_header = std::string("\x01\x02\x7f\xfe", 4) + c->sha.substr(4);
  if (garbage_ != Garbage::NoCommit) r.headers.push_back({"X-Repo-Commit", commit_header});
  bool lfs = is_lfs(file, content);
  std::string etag = lfs ? sha256(content) : git_sha1(content);
  if (garbage_ == Garbage::TraversalEtag) etag = "../../../../evil";
  if (lfs) {
    r.status = 302;
    if (garbage_ != Garbage::NoEtag) {
      r.headers.push_back({"ETag", "\"" + git_sha1("version https://git-lfs.github.com/spec/v1\n" + file) + "\""});
      r.headers.push_back({"X-Linked-Etag", "\"" + etag + "\""});
    }
    r.headers.push_back({"X-Linked-Size", garbage_ == Garbage::BadSize ? "12abc" : std::to_string(content.size())});
    r.headers.push_back({"Location", endpoint() + "/cdn/" + sha256(content) + "?X-Amz-Signature=fake"});
    r.body = "Found. Redirecting";
    return r;
  }
  if (garbage_ != Garbage::NoEtag) r.headers.push_back({"ETag", "\"" + etag + "\""});
  r.body = content;
  if (req.method == "GET") {
    if (take_fault(cuts_, file, &value)) r.cut_after = std::size_t(value);
    if (auto t = throttles_.find(file); t != throttles_.end()) {
      r.throttle_chunk = t->second.first;
      r.throttle_ms = t->second.second;
    }
  }
  return r;
}

FakeHub::Response FakeHub::cdn(const LoggedRequest& req, const std::string& sha) {
  Response r;
  std::string file, content;
  int value = 0;
  bool delayed = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto b = blobs_.find(sha);
    if (b == blobs_.end()) {
      r.status = 404;
      return r;
    }
    file = b->second.first;
    content = b->second.second;
    delayed = take_fault(delays_, file, &value);
  }
  if (delayed) std::this_thread::sleep_for(std::chrono::milliseconds(value));
  std::lock_guard<std::mutex> lk(mu_);
  if (take_fault(fails_, file, &value)) {
    r.status = value;
    return r;
  }
  r.headers.push_back({"ETag", "\"" + sha + "\""});
  r.headers.push_back({"Accept-Ranges", "bytes"});
  auto range = req.headers.find("range");
  std::size_t start = 0;
  if (range != req.headers.end()) {
    // Only the open-ended form "bytes=<start>-" that resumed downloads send.
    const std::string& v = range->second;
    const std::string_view digits = v.size() > 7 ? std::string_view(v).substr(6, v.size() - 7) : std::string_view();
    if (!v.starts_with("bytes=") || !v.ends_with('-') || digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      r.status = 416;
      return r;
    }
    start = std::stoull(std::string(digits));
    if (start >= content.size()) {
      r.status = 416;
      r.headers.push_back({"Content-Range", "bytes */" + std::to_string(content.size())});
      return r;
    }
    r.status = 206;
    std::size_t shown_start = garbage_ == Garbage::BadContentRange ? start + 1 : start;
    r.headers.push_back({"Content-Range", "bytes " + std::to_string(shown_start) + "-" +
                                              std::to_string(content.size() - 1) + "/" +
                                              std::to_string(content.size())});
  }
  r.body = content.substr(start);
  if (req.method == "GET") {
    if (take_fault(cuts_, file, &value)) r.cut_after = std::size_t(value);
    if (auto t = throttles_.find(file); t != throttles_.end()) {
      r.throttle_chunk = t->second.first;
      r.throttle_ms = t->second.second;
    }
  }
  return r;
}

FakeHub::Response FakeHub::api(const LoggedRequest& req, const std::string& repo_id, const std::string& rev) {
  Response r;
  std::lock_guard<std::mutex> lk(mu_);
  if (!api_enabled_) {
    r.status = 404;
    r.body = "Cannot GET";
    return r;
  }
  auto it = repos_.find(repo_id);
  if (it == repos_.end()) {
    r.status = 401;
    r.headers.push_back({"X-Error-Code", "RepoNotFound"});
    return r;
  }
  if (it->second.token) {
    auto auth = req.headers.find("authorization");
    if (auth == req.headers.end() || auth->second != "Bearer " + *it->second.token) {
      r.status = 401;
      r.headers.push_back({"X-Error-Code", "RepoNotFound"});
      return r;
    }
  }
  const Commit* c = find_commit(it->second, rev);
  if (!c) {
    r.status = 404;
    r.headers.push_back({"X-Error-Code", "RevisionNotFound"});
    return r;
  }
  nlohmann::json j;
  j["id"] = repo_id;
  j["sha"] = c->sha;
  j["siblings"] = nlohmann::json::array();
  for (const auto& [name, content] : c->files) j["siblings"].push_back({{"rfilename", name}, {"size", content.size()}});
  if (garbage_ == Garbage::TraversalListing) j["siblings"].push_back({{"rfilename", "../../escape.txt"}});
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = j.dump();
  return r;
}

std::string FakeHub::add_commit(const std::string& repo_id, const std::map<std::string, std::string>& files,
                                const std::vector<std::string>& refs) {
  std::lock_guard<std::mutex> lk(mu_);
  Repo& repo = repos_[repo_id];
  Commit c;
  c.sha = detail::git_blob_sha1_hex(repo_id + "#" + std::to_string(commit_counter_++));
  c.files = files;
  for (const auto& [name, content] : files)
    if (is_lfs(name, content)) blobs_[sha256(content)] = {name, content};
  repo.commits.push_back(c);
  for (const auto& ref : refs) repo.refs[ref] = repo.commits.size() - 1;
  return c.sha;
}

std::string FakeHub::add_commit_from_folder(const std::string& repo_id, const fs::path& folder,
                                            const std::vector<std::string>& refs,
                                            const std::map<std::string, std::string>& extra_files) {
  std::map<std::string, std::string> files = extra_files;
  // Only the regular files inside the folder: a symlink (to a file or a folder, possibly outside) is not served.
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace(fs::relative(e.path(), folder).generic_string(), ss.str());
  }
  return add_commit(repo_id, files, refs);
}

void FakeHub::set_private(const std::string& repo_id, const std::string& token) {
  std::lock_guard<std::mutex> lk(mu_);
  repos_[repo_id].token = token;
}
void FakeHub::set_gated(const std::string& repo_id, const std::string& token) {
  std::lock_guard<std::mutex> lk(mu_);
  repos_[repo_id].token = token;
  repos_[repo_id].gated = true;
}
void FakeHub::add_rename(const std::string& old_id, const std::string& new_id) {
  std::lock_guard<std::mutex> lk(mu_);
  renames_[old_id] = new_id;
}
void FakeHub::set_api_enabled(bool enabled) {
  std::lock_guard<std::mutex> lk(mu_);
  api_enabled_ = enabled;
}
void FakeHub::cut_downloads(const std::string& file, std::size_t after_bytes, int times) {
  std::lock_guard<std::mutex> lk(mu_);
  cuts_[file] = {int(after_bytes), times};
}
void FakeHub::delay_requests(const std::string& file, int delay_ms, int times) {
  std::lock_guard<std::mutex> lk(mu_);
  delays_[file] = {delay_ms, times};
}
void FakeHub::throttle_downloads(const std::string& file, std::size_t chunk, int sleep_ms) {
  std::lock_guard<std::mutex> lk(mu_);
  throttles_[file] = {chunk, sleep_ms};
}
void FakeHub::fail_requests(const std::string& file, int status, int times) {
  std::lock_guard<std::mutex> lk(mu_);
  fails_[file] = {status, times};
}
void FakeHub::set_garbage(Garbage g) {
  std::lock_guard<std::mutex> lk(mu_);
  garbage_ = g;
}
std::vector<LoggedRequest> FakeHub::requests() const {
  std::lock_guard<std::mutex> lk(mu_);
  return log_;
}
void FakeHub::clear_requests() {
  std::lock_guard<std::mutex> lk(mu_);
  log_.clear();
}
std::size_t FakeHub::count(const std::string& method, const std::string& target_substring) const {
  std::lock_guard<std::mutex> lk(mu_);
  std::size_t n = 0;
  for (const auto& r : log_)
    if ((method.empty() || r.method == method) && r.target.find(target_substring) != std::string::npos) ++n;
  return n;
}

GarbageServer::GarbageServer(std::string reply) : reply_(std::move(reply)) {
  listen_fd_ = make_listener(&port_);
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      char buf[4096];
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 2000) > 0) (void)::recv(fd, buf, sizeof buf, 0);
      send_all(fd, reply_.data(), reply_.size());
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  });
}

GarbageServer::~GarbageServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::string GarbageServer::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

}  // namespace ortformers::hub::testing
