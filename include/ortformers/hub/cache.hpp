#pragma once
// Scanning and cleaning the Hugging Face cache (what `huggingface-cli scan-cache` / `delete-cache` do).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ortformers::hub {

struct CachedFileInfo {
  std::string file_name;            // path inside the repo, e.g. "1_Pooling/config.json"
  std::filesystem::path file_path;  // the snapshot entry
  std::filesystem::path blob_path;  // what it points to
  std::uint64_t size_on_disk = 0;
};

struct CachedRevisionInfo {
  std::string commit_hash;
  std::filesystem::path snapshot_path;
  std::vector<std::string> refs;  // branch / tag names pointing at this commit
  std::vector<CachedFileInfo> files;
  std::uint64_t size_on_disk = 0;  // distinct blobs of this revision
};

struct CachedRepoInfo {
  std::string repo_id;
  std::string repo_type;  // "model", "dataset", "space"
  std::filesystem::path repo_path;
  std::uint64_t size_on_disk = 0;  // all blobs of the repo
  std::size_t nb_files = 0;        // distinct blobs
  std::vector<CachedRevisionInfo> revisions;
  std::filesystem::file_time_type last_modified{};
};

struct HFCacheInfo {
  std::filesystem::path cache_dir;
  std::uint64_t size_on_disk = 0;
  std::vector<CachedRepoInfo> repos;  // sorted by repo type then id
  std::vector<std::string> warnings;  // folders that do not look like cached repos
};

// Scans cache_dir (default: hf_hub_cache()). A missing folder gives an empty result.
HFCacheInfo scan_cache_dir(const std::optional<std::filesystem::path>& cache_dir = std::nullopt);

// Removes a whole cached repo (and its lock folder). Returns the bytes freed; NotFoundError if not cached.
std::uint64_t delete_cached_repo(const std::string& repo_id, const std::string& repo_type = "model",
                                 const std::optional<std::filesystem::path>& cache_dir = std::nullopt);

// Removes one revision (a commit hash or a ref name): its snapshot, the refs pointing at it and the blobs no
// other snapshot uses. Returns the bytes freed; NotFoundError if not cached.
std::uint64_t delete_cached_revision(const std::string& repo_id, const std::string& revision,
                                     const std::string& repo_type = "model",
                                     const std::optional<std::filesystem::path>& cache_dir = std::nullopt);

// "1.2M", "340.0K", "5B" style sizes as huggingface-cli prints them.
std::string format_size(std::uint64_t bytes);

}  // namespace ortformers::hub
