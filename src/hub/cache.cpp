// scan_cache_dir / delete_cached_repo / delete_cached_revision over the huggingface_hub cache layout.
#include "ortformers/hub/cache.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "hub/cache_layout.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/hub/constants.hpp"
#include "ortformers/hub/validators.hpp"

namespace fs = std::filesystem;

namespace ortformers::hub {
namespace {

bool parse_repo_folder(const std::string& name, std::string* type, std::string* id) {
  for (const char* t : {"models", "datasets", "spaces"}) {
    std::string prefix = std::string(t) + "--";
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.empty()) return false;
    std::string out;
    std::size_t start = 0;
    while (true) {
      auto pos = rest.find("--", start);
      out += rest.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
      if (pos == std::string::npos) break;
      out += "/";
      start = pos + 2;
    }
    *type = std::string(t).substr(0, std::string(t).size() - 1);
    *id = out;
    return true;
  }
  return false;
}

std::uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  auto s = fs::file_size(p, ec);
  return ec ? 0 : std::uint64_t(s);
}

// Refs (recursively, "refs/pr/1" style names) -> commit.
std::map<std::string, std::string> read_refs(const fs::path& storage) {
  std::map<std::string, std::string> out;
  fs::path refs = storage / "refs";
  std::error_code ec;
  if (!fs::is_directory(refs, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(refs, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().lexically_relative(refs).generic_string();
    try {
      std::string s = detail::read_text(it->path());
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      if (is_commit_hash(s)) out[name] = s;
    } catch (const Error&) {
    }
  }
  return out;
}

CachedRepoInfo scan_repo(const fs::path& storage, const std::string& type, const std::string& id) {
  CachedRepoInfo repo;
  repo.repo_id = id;
  repo.repo_type = type;
  repo.repo_path = storage;
  auto refs = read_refs(storage);
  std::map<fs::path, std::uint64_t> repo_blobs;
  std::error_code ec;
  fs::path snapshots = storage / "snapshots";
  if (fs::is_directory(snapshots, ec)) {
    for (const auto& snap : fs::directory_iterator(snapshots, ec)) {
      if (!snap.is_directory(ec)) continue;
      CachedRevisionInfo rev;
      rev.commit_hash = snap.path().filename().string();
      rev.snapshot_path = snap.path();
      for (const auto& [name, commit] : refs)
        if (commit == rev.commit_hash) rev.refs.push_back(name);
      std::set<fs::path> rev_blobs;
      for (auto it = fs::recursive_directory_iterator(snap.path(), ec); it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (ec) break;
        if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
        CachedFileInfo f;
        f.file_name = it->path().lexically_relative(snap.path()).generic_string();
        f.file_path = it->path();
        f.blob_path = it->is_symlink(ec) ? fs::weakly_canonical(it->path(), ec) : it->path();
        f.size_on_disk = size_of(f.blob_path);
        if (rev_blobs.insert(f.blob_path).second) rev.size_on_disk += f.size_on_disk;
        repo_blobs[f.blob_path] = f.size_on_disk;
        rev.files.push_back(std::move(f));
      }
      std::sort(rev.files.begin(), rev.files.end(),
                [](const CachedFileInfo& a, const CachedFileInfo& b) { return a.file_name < b.file_name; });
      repo.revisions.push_back(std::move(rev));
    }
  }
  std::sort(repo.revisions.begin(), repo.revisions.end(),
            [](const CachedRevisionInfo& a, const CachedRevisionInfo& b) { return a.commit_hash < b.commit_hash; });
  for (const auto& [blob, size] : repo_blobs) {
    repo.size_on_disk += size;
    auto t = fs::last_write_time(blob, ec);
    if (!ec && t > repo.last_modified) repo.last_modified = t;
  }
  repo.nb_files = repo_blobs.size();
  return repo;
}

fs::path storage_for(const std::string& repo_id, const std::string& repo_type,
                     const std::optional<fs::path>& cache_dir) {
  validate_repo_id(repo_id);
  validate_repo_type(repo_type);
  return (cache_dir ? *cache_dir : hf_hub_cache()) / repo_folder_name(repo_id, repo_type);
}

}  // namespace

HFCacheInfo scan_cache_dir(const std::optional<fs::path>& cache_dir) {
  HFCacheInfo info;
  info.cache_dir = cache_dir ? *cache_dir : hf_hub_cache();
  std::error_code ec;
  if (!fs::is_directory(info.cache_dir, ec)) return info;
  for (const auto& e : fs::directory_iterator(info.cache_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name == ".locks") continue;
    std::string type, id;
    if (!e.is_directory(ec) || !parse_repo_folder(name, &type, &id)) {
      info.warnings.push_back("not a cached repo, skipped: " + e.path().string());
      continue;
    }
    info.repos.push_back(scan_repo(e.path(), type, id));
    info.size_on_disk += info.repos.back().size_on_disk;
  }
  std::sort(info.repos.begin(), info.repos.end(), [](const CachedRepoInfo& a, const CachedRepoInfo& b) {
    return std::tie(a.repo_type, a.repo_id) < std::tie(b.repo_type, b.repo_id);
  });
  return info;
}

std::uint64_t delete_cached_repo(const std::string& repo_id, const std::string& repo_type,
                                 const std::optional<fs::path>& cache_dir) {
  fs::path storage = storage_for(repo_id, repo_type, cache_dir);
  std::error_code ec;
  if (!fs::is_directory(storage, ec))
    throw NotFoundError("'" + repo_id + "' (" + repo_type + ") is not in the cache: " + storage.string() +
                        " does not exist");
  std::uint64_t freed = 0;
  for (auto it = fs::recursive_directory_iterator(storage / "blobs", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) freed += size_of(it->path());
  fs::remove_all(storage, ec);
  if (ec) throw RuntimeError("cannot delete '" + storage.string() + "': " + ec.message());
  fs::remove_all(storage.parent_path() / ".locks" / storage.filename(), ec);
  return freed;
}

std::uint64_t delete_cached_revision(const std::string& repo_id, const std::string& revision,
                                     const std::string& repo_type, const std::optional<fs::path>& cache_dir) {
  fs::path storage = storage_for(repo_id, repo_type, cache_dir);
  validate_revision(revision);
  std::error_code ec;
  std::optional<std::string> commit;
  if (is_commit_hash(revision) && fs::is_directory(storage / "snapshots" / revision, ec)) commit = revision;
  if (!commit) commit = detail::read_ref(storage, revision);
  if (!commit || !fs::is_directory(storage / "snapshots" / *commit, ec))
    throw NotFoundError("revision '" + revision + "' of '" + repo_id + "' is not in the cache " + storage.string());

  auto repo = scan_repo(storage, repo_type, repo_id);
  std::set<fs::path> keep, drop;
  for (const auto& rev : repo.revisions)
    for (const auto& f : rev.files) (rev.commit_hash == *commit ? drop : keep).insert(f.blob_path);
  std::uint64_t freed = 0;
  for (const auto& b : drop) {
    if (keep.count(b)) continue;
    // Only blobs inside this repo's blobs folder are ever removed.
    auto rel = b.lexically_relative(fs::weakly_canonical(storage / "blobs", ec));
    if (rel.empty() || *rel.begin() == ".." || rel.is_absolute()) continue;
    freed += size_of(b);
    fs::remove(b, ec);
  }
  fs::remove_all(storage / "snapshots" / *commit, ec);
  fs::remove_all(storage / ".no_exist" / *commit, ec);
  for (const auto& [name, c] : read_refs(storage))
    if (c == *commit) fs::remove(storage / "refs" / name, ec);
  // A repo with no snapshot left is removed entirely, as huggingface_hub's delete strategy does.
  if (fs::is_empty(storage / "snapshots", ec)) {
    fs::remove_all(storage, ec);
    fs::remove_all(storage.parent_path() / ".locks" / storage.filename(), ec);
  }
  return freed;
}

std::string format_size(std::uint64_t bytes) {
  double v = double(bytes);
  for (const char* unit : {"", "K", "M", "G", "T", "P", "E", "Z"}) {
    if (std::fabs(v) < 1000.0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
      return buf;
    }
    v /= 1000.0;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fY", v);
  return buf;
}

}  // namespace ortformers::hub
