#pragma once
// A Hugging Face hub look-alike on 127.0.0.1 (ephemeral port) for the hub tests: the /{repo}/resolve/{rev}/{file}
// layout with X-Repo-Commit, ETag / X-Linked-Etag / X-Linked-Size, 302 redirects of LFS files to a CDN-like
// /cdn/<sha256> path that honours Range requests, 401/404 with X-Error-Code, the /api/models/{repo}/revision/{rev}
// file list, and injectable faults (connections cut mid-file, delays, throttled bodies, garbage headers).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ortformers::hub::testing {

struct LoggedRequest {
  std::string method;
  std::string target;                          // path + query as sent
  std::map<std::string, std::string> headers;  // lower-cased names
};

enum class Garbage {
  None,
  NoCommit,          // resolve answers lack X-Repo-Commit
  BadCommit,         // X-Repo-Commit is not a commit hash
  TraversalEtag,     // ETag / X-Linked-Etag is "../../../../evil"
  BadSize,           // X-Linked-Size / Content-Length is not a number (resolve HEAD of LFS files)
  NoEtag,            // no ETag at all
  BinaryHeader,      // X-Repo-Commit holds control bytes
  TraversalListing,  // the API lists "../../escape.txt"
  BadContentRange,   // the CDN answers Range requests with a wrong Content-Range
};

class FakeHub {
 public:
  FakeHub();
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const;  // http://127.0.0.1:<port>
  int port() const { return port_; }

  // A new commit of `repo_id` holding `files` (path -> content); each ref in `refs` now points to it. Returns the
  // 40-hex commit hash.
  std::string add_commit(const std::string& repo_id, const std::map<std::string, std::string>& files,
                         const std::vector<std::string>& refs = {"main"});
  // Same, reading every regular file under `folder` (recursively; symlinks, to files or folders, are skipped).
  std::string add_commit_from_folder(const std::string& repo_id, const std::filesystem::path& folder,
                                     const std::vector<std::string>& refs = {"main"},
                                     const std::map<std::string, std::string>& extra_files = {});
  // Requests for `repo_id` need "Authorization: Bearer <token>".
  void set_private(const std::string& repo_id, const std::string& token);
  // Requests without an accepted token get 401 with X-Error-Code: GatedRepo.
  void set_gated(const std::string& repo_id, const std::string& token);
  // `old_id` answers with a relative 307 redirect to `new_id` (a renamed repo).
  void add_rename(const std::string& old_id, const std::string& new_id);
  void set_api_enabled(bool enabled);

  // Faults. A file is matched by its repo path (both on the resolve URL and its CDN URL).
  void cut_downloads(const std::string& file, std::size_t after_bytes, int times);    // GET bodies end early
  void delay_requests(const std::string& file, int delay_ms, int times);              // before the headers
  void throttle_downloads(const std::string& file, std::size_t chunk, int sleep_ms);  // slow bodies (always)
  void fail_requests(const std::string& file, int status, int times);                 // e.g. 500 then OK
  void set_garbage(Garbage g);

  std::vector<LoggedRequest> requests() const;
  void clear_requests();
  std::size_t count(const std::string& method, const std::string& target_substring) const;

  // Helpers for the tests: the hub's ETags.
  static std::string sha256(const std::string& data);
  static std::string git_sha1(const std::string& data);
  static bool is_lfs(const std::string& path, const std::string& content);

 private:
  struct Commit {
    std::string sha;
    std::map<std::string, std::string> files;
  };
  struct Repo {
    std::vector<Commit> commits;
    std::map<std::string, std::size_t> refs;  // name -> index in commits
    std::optional<std::string> token;
    bool gated = false;
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool head = false;
    std::optional<std::size_t> cut_after;
    std::size_t throttle_chunk = 0;
    int throttle_ms = 0;
  };

  void serve();
  void handle(int fd);
  Response route(const LoggedRequest& req);
  Response resolve(const LoggedRequest& req, const std::string& repo, const std::string& rev, const std::string& file);
  Response cdn(const LoggedRequest& req, const std::string& sha);
  Response api(const LoggedRequest& req, const std::string& repo, const std::string& rev);
  bool take_fault(std::map<std::string, std::pair<int, int>>& faults, const std::string& file, int* value);
  const Commit* find_commit(const Repo& repo, const std::string& rev) const;

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex threads_mu_;
  std::vector<std::thread> workers_;

  mutable std::mutex mu_;
  std::map<std::string, Repo> repos_;
  std::map<std::string, std::string> renames_;
  std::map<std::string, std::pair<std::string, std::string>> blobs_;  // sha256 -> (file name, content)
  bool api_enabled_ = true;
  Garbage garbage_ = Garbage::None;
  std::map<std::string, std::pair<int, int>> cuts_;    // file -> (bytes, times)
  std::map<std::string, std::pair<int, int>> delays_;  // file -> (ms, times)
  std::map<std::string, std::pair<int, int>> fails_;   // file -> (status, times)
  std::map<std::string, std::pair<std::size_t, int>> throttles_;
  std::vector<LoggedRequest> log_;
  int commit_counter_ = 0;
};

// A server that answers every connection with bytes that are not HTTP, for the garbage-reply test.
class GarbageServer {
 public:
  explicit GarbageServer(std::string reply);
  ~GarbageServer();
  std::string endpoint() const;

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::string reply_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ortformers::hub::testing
