// hf_hub_download: the cache lookup, the HEAD metadata request and the locked, resumable, verified blob download,
// following huggingface_hub/file_download.py.
#include "hub/file_download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "hub/cache_layout.hpp"
#include "hub/hashing.hpp"
#include "hub/progress.hpp"
#include "ortformers/hub/constants.hpp"
#include "ortformers/hub/validators.hpp"

namespace fs = std::filesystem;

namespace ortformers::hub {
namespace detail {
namespace {

// Printable, bounded rendering of a value received from the network, for error messages.
std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= 100) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool is_hex(const std::string& s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string normalize_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool safe_blob_name(const std::string& e) {
  if (e.empty() || e.size() > 200 || e[0] == '.') return false;
  for (unsigned char c : e)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::optional<std::uint64_t> parse_size(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + std::uint64_t(c - '0');
  }
  return v;
}

struct FileMetadata {
  std::string commit;
  std::string etag;
  bool linked = false;  // the ETag came from X-Linked-Etag (an LFS file: sha256 of the content)
  std::string location;
  std::optional<std::uint64_t> size;
};

double env_timeout() {
  const char* v = std::getenv("HF_HUB_DOWNLOAD_TIMEOUT");
  if (!v || !*v) return 10.0;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || d <= 0) return 10.0;
  return d;
}

// HEAD {url}: follows relative redirects only (renamed repos), keeps absolute ones as the download location.
FileMetadata get_hf_file_metadata(const Context& ctx, const std::string& url, const std::string& filename,
                                  const std::string& revision) {
  std::string current = url;
  HttpResult r;
  int attempt = 0;
  for (int hops = 0;; ++hops) {
    HttpRequest req;
    req.method = "HEAD";
    req.url = current;
    req.headers = auth_headers(ctx);
    req.headers.push_back("Accept-Encoding: identity");
    req.timeout_s = ctx.timeout_s;
    req.total_timeout_s = ctx.timeout_s * 3;
    r = http_request(req);
    if (!r.ok_transport()) {
      if (r.transient_transport_error() && attempt < ctx.options->max_retries && r.curl_code != 28 /* timeout */) {
        backoff_sleep(attempt++);
        --hops;
        continue;
      }
      raise_transport(ctx, r, "'" + filename + "' of '" + ctx.repo_id + "'", current);
    }
    if ((r.status == 429 || r.status >= 500) && attempt < ctx.options->max_retries) {
      backoff_sleep(attempt++);
      --hops;
      continue;
    }
    if (r.status >= 300 && r.status < 400) {
      auto loc = r.headers.get("location");
      if (loc && !loc->empty() && (*loc)[0] == '/' && (loc->size() < 2 || (*loc)[1] != '/')) {
        if (hops >= 10) throw RuntimeError("too many redirects while resolving '" + url + "'");
        current = url_origin(current) + *loc;
        continue;
      }
    }
    break;
  }
  if (r.status >= 400) {
    auto code = r.headers.get("x-error-code").value_or("");
    auto commit = r.headers.get("x-repo-commit");
    if (r.status == 404 && (code == "EntryNotFound" || code.empty()) && commit && is_commit_hash(*commit)) {
      // Later lookups know the file is absent at that commit (and which commit the revision is).
      mark_no_exist(ctx.storage, *commit, filename);
      if (revision != *commit) write_ref(ctx.storage, revision, *commit);
    }
    raise_for_status(ctx, r, "'" + filename + "' of '" + ctx.repo_id + "'", current);
  }
  if (r.status < 200) throw FileFormatError("unexpected HTTP status " + std::to_string(r.status) + " for " + current);

  FileMetadata m;
  auto commit = r.headers.get("x-repo-commit");
  if (!commit || !is_commit_hash(*commit))
    throw FileFormatError(
        "the server answering " + current + " sent " +
        (commit ? "an invalid X-Repo-Commit header '" + shown(*commit) + "'" : std::string("no X-Repo-Commit header")) +
        ": it does not look like a Hugging Face hub (check HF_ENDPOINT '" + ctx.endpoint + "', proxies and firewall)");
  m.commit = *commit;
  auto linked = r.headers.get("x-linked-etag");
  auto etag = linked ? linked : r.headers.get("etag");
  if (!etag)
    throw FileFormatError("the server answering " + current +
                          " sent no ETag: the download cannot be checked nor cached reproducibly");
  m.etag = normalize_etag(*etag);
  m.linked = linked.has_value();
  if (!safe_blob_name(m.etag))
    throw FileFormatError("the server answering " + current + " sent an invalid ETag '" + shown(*etag) +
                          "' (expected a hash made of letters, digits, '-', '_' or '.')");
  auto size_header = r.headers.get("x-linked-size");
  if (!size_header) size_header = r.headers.get("content-length");
  if (size_header) {
    m.size = parse_size(*size_header);
    if (!m.size)
      throw FileFormatError("the server answering " + current + " sent an invalid size '" + shown(*size_header) +
                            "' (X-Linked-Size / Content-Length)");
  }
  m.location = current;
  if (r.status >= 300 && r.status < 400) {
    auto loc = r.headers.get("location");
    if (!loc || loc->empty())
      throw FileFormatError("the server answering " + current + " sent a redirect without a Location header");
    std::string l = *loc;
    if (l.rfind("http://", 0) != 0 && l.rfind("https://", 0) != 0)
      throw FileFormatError("the server answering " + current + " redirected to an unsupported location '" + shown(l) +
                            "' (only http and https are followed)");
    m.location = l;
  }
  return m;
}

// Size of a file, 0 when missing.
std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto s = fs::file_size(p, ec);
  return ec ? 0 : std::uint64_t(s);
}

void truncate_file(const fs::path& p) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError("cannot truncate '" + p.string() + "': " + std::strerror(errno));
  ::close(fd);
}

// Downloads meta.location into `blob` through `blob.incomplete`, resuming, retrying and verifying.
void fetch_blob(const Context& ctx, const FileMetadata& meta, const fs::path& blob, const std::string& filename,
                const std::string& original_url) {
  const HubOptions& o = *ctx.options;
  fs::path incomplete = blob;
  incomplete += ".incomplete";
  std::error_code ec;
  fs::create_directories(blob.parent_path(), ec);
  if (ec) throw RuntimeError("cannot create folder '" + blob.parent_path().string() + "': " + ec.message());
  if (o.force_download) fs::remove(incomplete, ec);

  std::vector<std::string> base_headers;
  // A signed CDN URL on another host must not receive the token.
  if (url_origin(meta.location) == url_origin(original_url)) base_headers = auth_headers(ctx);
  base_headers.push_back("Accept-Encoding: identity");

  enum class Check { None, Sha256, GitSha1 };
  Check check = Check::None;
  if (meta.linked && is_hex(meta.etag, 64)) check = Check::Sha256;
  if (!meta.linked && is_hex(meta.etag, 40)) check = Check::GitSha1;

  int attempt = 0;
  bool restarted = false;  // a resumed file failed its check once and was downloaded again from zero
  while (true) {
    std::uint64_t resume = file_size_or_zero(incomplete);
    if (meta.size && resume > *meta.size) {
      truncate_file(incomplete);
      resume = 0;
    }
    bool resumed = resume > 0;
    HttpResult r;
    if (!(meta.size && resume == *meta.size)) {
      int fd = ::open(incomplete.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) throw RuntimeError("cannot open '" + incomplete.string() + "' for writing: " + std::strerror(errno));
      HttpRequest req;
      req.method = "GET";
      req.url = meta.location;
      req.headers = base_headers;
      if (resume > 0) req.headers.push_back("Range: bytes=" + std::to_string(resume) + "-");
      req.follow_redirects = true;
      req.timeout_s = ctx.timeout_s;
      std::string write_error;
      std::uint64_t written = resume;
      ProgressBar bar(filename, meta.size.value_or(0), resume, ctx.progress);
      req.on_response = [&](long status, const HttpHeaders& h) {
        if (status == 206) {
          auto cr = h.get("content-range");
          std::string expect = "bytes " + std::to_string(resume) + "-";
          if (!cr || cr->rfind(expect, 0) != 0) {
            write_error = "the server answered a Range request with Content-Range '" + shown(cr.value_or("")) +
                          "' instead of '" + expect + "...'";
            return false;
          }
        } else if (status == 200 && resume > 0) {
          // The server ignored the Range header: start over.
          if (::ftruncate(fd, 0) != 0) {
            write_error = std::string("cannot truncate: ") + std::strerror(errno);
            return false;
          }
          written = 0;
          resumed = false;
        }
        return true;
      };
      req.sink = [&](const char* data, std::size_t n) {
        while (n > 0) {
          ssize_t w = ::write(fd, data, n);
          if (w < 0) {
            if (errno == EINTR) continue;
            write_error = "cannot write '" + incomplete.string() + "': " + std::strerror(errno);
            return false;
          }
          data += w;
          n -= std::size_t(w);
          written += std::uint64_t(w);
        }
        if (meta.size && written > *meta.size) {
          write_error = "the server sent more than the announced " + std::to_string(*meta.size) + " bytes";
          return false;
        }
        bar.update(written);
        return true;
      };
      r = http_request(req);
      bool closed_ok = ::close(fd) == 0;
      if (!closed_ok && write_error.empty())
        write_error = "cannot write '" + incomplete.string() + "': " + std::strerror(errno);
      bar.finish();
      if (!write_error.empty()) {
        if (r.aborted_by_callback && write_error.rfind("cannot", 0) != 0 && attempt < o.max_retries) {
          // A protocol surprise (bad Content-Range, too many bytes): start again from zero.
          truncate_file(incomplete);
          backoff_sleep(attempt++);
          continue;
        }
        throw RuntimeError("download of '" + filename + "' from " + meta.location + " failed: " + write_error);
      }
      if (!r.ok_transport()) {
        if (r.transient_transport_error() && attempt < o.max_retries) {
          backoff_sleep(attempt++);
          continue;
        }
        throw RuntimeError("download of '" + filename + "' of '" + ctx.repo_id + "' from " + meta.location +
                           " failed after " + std::to_string(attempt + 1) +
                           " attempt(s): " + (r.curl_code == 28 ? "timed out: " : "") + r.curl_error +
                           ". The partial file '" + incomplete.string() + "' (" +
                           std::to_string(file_size_or_zero(incomplete)) + " bytes) is resumed on the next try");
      }
      if (r.status == 416) {  // the partial file does not fit the server's copy
        truncate_file(incomplete);
        if (attempt < o.max_retries) {
          backoff_sleep(attempt++);
          continue;
        }
      }
      if ((r.status == 429 || r.status >= 500) && attempt < o.max_retries) {
        backoff_sleep(attempt++);
        continue;
      }
      if (r.status >= 400) raise_for_status(ctx, r, "'" + filename + "' of '" + ctx.repo_id + "'", meta.location);
      if (r.status < 200 || r.status >= 300)
        throw FileFormatError("unexpected HTTP status " + std::to_string(r.status) + " while downloading " +
                              meta.location);
    }

    // Consistency checks, then the atomic rename that makes the blob visible.
    std::uint64_t actual = file_size_or_zero(incomplete);
    std::string problem;
    if (meta.size && actual != *meta.size) {
      problem = "file should be of size " + std::to_string(*meta.size) + " but has size " + std::to_string(actual);
    } else if (check != Check::None) {
      std::string digest = check == Check::Sha256 ? sha256_file(incomplete) : git_blob_sha1_file(incomplete);
      if (digest != meta.etag)
        problem = std::string(check == Check::Sha256 ? "sha256 " : "git blob sha1 ") + digest +
                  " does not match the ETag " + meta.etag;
    }
    if (!problem.empty()) {
      if (resumed && !restarted) {
        // The partial file we resumed from was corrupt: download the whole file again once.
        restarted = true;
        truncate_file(incomplete);
        continue;
      }
      fs::remove(incomplete, ec);
      throw FileFormatError("consistency check failed for '" + filename + "' of '" + ctx.repo_id +
                            "' downloaded from " + meta.location + ": " + problem +
                            " (the download was discarded; retry, and check your network or proxy)");
    }
    fs::rename(incomplete, blob, ec);
    if (ec) throw RuntimeError("cannot move '" + incomplete.string() + "' to '" + blob.string() + "': " + ec.message());
    return;
  }
}

}  // namespace

Context make_context(const std::string& repo_id, const HubOptions& options) {
  validate_repo_id(repo_id);
  validate_repo_type(options.repo_type);
  validate_revision(options.revision);
  Context ctx;
  ctx.repo_id = repo_id;
  ctx.repo_type = options.repo_type;
  ctx.endpoint = options.endpoint ? *options.endpoint : hf_endpoint();
  while (!ctx.endpoint.empty() && ctx.endpoint.back() == '/') ctx.endpoint.pop_back();
  if (ctx.endpoint.rfind("http://", 0) != 0 && ctx.endpoint.rfind("https://", 0) != 0)
    throw InvalidArgument("hub endpoint must start with http:// or https://: '" + ctx.endpoint + "'");
  ctx.cache_dir = options.cache_dir ? *options.cache_dir : hf_hub_cache();
  ctx.storage = ctx.cache_dir / repo_folder_name(repo_id, options.repo_type);
  ctx.token = options.token ? options.token : get_token();
  if (ctx.token && ctx.token->empty()) ctx.token.reset();
  if (ctx.token) {
    for (unsigned char c : *ctx.token)
      if (c < 0x21 || c == 0x7f)
        throw InvalidArgument("the Hugging Face token contains whitespace or control characters");
  }
  ctx.offline = options.local_files_only || is_offline_mode();
  ctx.progress = options.progress && progress_bars_allowed();
  ctx.timeout_s = options.timeout_s > 0 ? options.timeout_s : env_timeout();
  ctx.options = &options;
  return ctx;
}

std::vector<std::string> auth_headers(const Context& ctx) {
  if (!ctx.token) return {};
  return {"Authorization: Bearer " + *ctx.token};
}

std::string repo_url_prefix(const Context& ctx) {
  if (ctx.repo_type == "dataset") return ctx.endpoint + "/datasets/";
  if (ctx.repo_type == "space") return ctx.endpoint + "/spaces/";
  return ctx.endpoint + "/";
}

std::string offline_reason(const Context& ctx) {
  if (ctx.options && ctx.options->local_files_only) return "local_files_only is set";
  return "outgoing traffic has been disabled (HF_HUB_OFFLINE=1)";
}

void backoff_sleep(int attempt) {
  double s = std::min(3.0, 0.2 * double(1 << std::min(attempt, 4)));
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

void raise_transport(const Context& ctx, const HttpResult& r, const std::string& what, const std::string& url) {
  std::string why = r.curl_error;
  if (r.curl_code == 28)
    why = "timed out (no data for " + std::to_string(ctx.timeout_s) + " s; raise HubOptions::timeout_s or " +
          "HF_HUB_DOWNLOAD_TIMEOUT): " + why;
  throw RuntimeError("cannot reach the hub at " + ctx.endpoint + " for " + what + " (" + url + "): " + why +
                     ". Check your connection, or set HF_HUB_OFFLINE=1 to use cached files only");
}

void raise_for_status(const Context& ctx, const HttpResult& r, const std::string& what, const std::string& url) {
  auto code = r.headers.get("x-error-code").value_or("");
  auto message = r.headers.get("x-error-message").value_or("");
  std::string detail = message.empty() ? "" : " (server: " + shown(message) + ")";
  std::string status = " [HTTP " + std::to_string(r.status) + "]";
  if (code == "RevisionNotFound")
    throw RevisionNotFoundError("revision not found for " + what + ": " + url + status + detail);
  if (code == "EntryNotFound" || (r.status == 404 && code.empty() && url.find("/resolve/") != std::string::npos)) {
    throw EntryNotFoundError("entry not found: " + what + " does not exist at " + url + status + detail);
  }
  if (code == "GatedRepo")
    throw GatedRepoError("cannot access gated repo '" + ctx.repo_id + "' for " + url + status + detail +
                         ": ask for access on the hub and pass a token (HubOptions::token, HF_TOKEN or the token "
                         "file)");
  if (code == "RepoNotFound" || r.status == 401 || r.status == 404) {
    std::string auth =
        ctx.token
            ? " The token that was sent was not accepted." +
                  std::string(message == "Invalid credentials in Authorization header" ? " (invalid credentials)" : "")
            : " No token was sent: pass one with HubOptions::token, $HF_TOKEN or the token file "
              "($HF_TOKEN_PATH or $HF_HOME/token).";
    throw RepositoryNotFoundError("repository not found for " + what + ": " + url + status + detail +
                                  ". Check the repo id and repo type; if the repo is private or gated, you must be "
                                  "authenticated." +
                                  auth);
  }
  if (r.status == 403)
    throw RepositoryNotFoundError("forbidden: " + what + " at " + url + status + detail +
                                  " (the token lacks the rights for this repo)");
  throw RuntimeError("HTTP error for " + what + " at " + url + status + detail);
}

Downloaded download_file(const Context& ctx, const std::string& filename, const std::string& revision) {
  validate_filename(filename);
  validate_revision(revision);
  const HubOptions& o = *ctx.options;

  // 1. The cache, without any network access.
  std::optional<Downloaded> cached;
  bool known_missing = false;
  std::optional<std::string> cached_c = cached_commit(ctx.storage, revision);
  if (cached_c) {
    auto p = pointer_path(ctx.storage, *cached_c, filename);
    std::error_code ec;
    if (fs::exists(p, ec))
      cached = Downloaded{p, *cached_c};
    else if (fs::exists(no_exist_path(ctx.storage, *cached_c, filename), ec))
      known_missing = true;
  }
  bool trust_cache = !o.force_download && (!o.check_for_updates || is_commit_hash(revision) || ctx.offline);
  if (trust_cache && cached) return *cached;
  if (trust_cache && known_missing)
    throw EntryNotFoundError("'" + filename + "' does not exist in '" + ctx.repo_id + "' at revision '" + revision +
                             "' (commit " + *cached_c + "): the hub answered 404 earlier, recorded in '" +
                             no_exist_path(ctx.storage, *cached_c, filename).string() + "'");
  if (ctx.offline) {
    if (cached) return *cached;
    std::string looked = cached_c ? "snapshot " + (ctx.storage / "snapshots" / *cached_c / filename).string()
                                  : "ref " + (ctx.storage / "refs" / revision).string();
    throw LocalEntryNotFoundError("cannot find '" + filename + "' of '" + ctx.repo_id + "' (revision '" + revision +
                                  "') in the local cache " + ctx.cache_dir.string() + " and " + offline_reason(ctx) +
                                  ". Missing: " + looked +
                                  ". Download it first with network access (ortformers "
                                  "download " +
                                  ctx.repo_id + ")");
  }

  // 2. The file's metadata from the hub.
  std::string url =
      repo_url_prefix(ctx) + ctx.repo_id + "/resolve/" + url_quote(revision, "") + "/" + url_quote(filename, "/");
  FileMetadata meta;
  try {
    meta = get_hf_file_metadata(ctx, url, filename, revision);
  } catch (const EntryNotFoundError&) {
    throw;
  } catch (const RuntimeError&) {
    if (cached && !o.force_download) return *cached;  // unreachable hub: fall back to the cache
    throw;
  }

  // 3. Cache bookkeeping and the blob itself.
  write_ref(ctx.storage, revision, meta.commit);
  fs::path pointer = pointer_path(ctx.storage, meta.commit, filename);
  fs::path blob = ctx.storage / "blobs" / meta.etag;
  std::error_code ec;
  if (!o.force_download && fs::exists(pointer, ec)) return {pointer, meta.commit};
  if (!o.force_download && fs::exists(blob, ec)) {
    create_pointer(blob, pointer);
    return {pointer, meta.commit};
  }
  FileLock lock(ctx.cache_dir / ".locks" / repo_folder_name(ctx.repo_id, ctx.repo_type) / (meta.etag + ".lock"));
  if (o.force_download || !fs::exists(blob, ec)) fetch_blob(ctx, meta, blob, filename, url);
  create_pointer(blob, pointer);
  return {pointer, meta.commit};
}

}  // namespace detail

std::filesystem::path hf_hub_download(const std::string& repo_id, const std::string& filename,
                                      const HubOptions& options) {
  auto ctx = detail::make_context(repo_id, options);
  return detail::download_file(ctx, filename, options.revision).path;
}

std::string hf_hub_url(const std::string& repo_id, const std::string& filename, const HubOptions& options) {
  auto ctx = detail::make_context(repo_id, options);
  validate_filename(filename);
  return detail::repo_url_prefix(ctx) + repo_id + "/resolve/" + detail::url_quote(options.revision, "") + "/" +
         detail::url_quote(filename, "/");
}

CachedFile try_to_load_from_cache(const std::string& repo_id, const std::string& filename, const HubOptions& options) {
  validate_repo_id(repo_id);
  validate_repo_type(options.repo_type);
  validate_filename(filename);
  fs::path cache = options.cache_dir ? *options.cache_dir : hf_hub_cache();
  fs::path storage = cache / repo_folder_name(repo_id, options.repo_type);
  CachedFile out;
  auto commit = detail::cached_commit(storage, options.revision);
  if (!commit) return out;
  std::error_code ec;
  auto p = detail::pointer_path(storage, *commit, filename);
  if (fs::exists(p, ec)) {
    out.status = CachedFile::Status::Cached;
    out.path = p;
  } else if (fs::exists(detail::no_exist_path(storage, *commit, filename), ec)) {
    out.status = CachedFile::Status::KnownMissing;
  }
  return out;
}

}  // namespace ortformers::hub
