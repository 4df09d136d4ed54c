#pragma once
// The on-disk layout shared with huggingface_hub:
//   <cache>/models--org--name/refs/<revision>            text file holding a commit hash
//   <cache>/models--org--name/snapshots/<commit>/<file>  relative symlink to ../../blobs/<etag>
//   <cache>/models--org--name/blobs/<etag>[.incomplete]
//   <cache>/models--org--name/.no_exist/<commit>/<file>  empty marker: the hub answered 404 for that file
//   <cache>/.locks/models--org--name/<etag>.lock         advisory lock held while a blob is written
#include <filesystem>
#include <optional>
#include <string>

namespace ortformers::hub::detail {

// refs/<revision> content (a validated commit hash), or nullopt.
std::optional<std::string> read_ref(const std::filesystem::path& storage, const std::string& revision);
// Writes refs/<revision> atomically when it differs.
void write_ref(const std::filesystem::path& storage, const std::string& revision, const std::string& commit);
// The commit a revision designates in the cache: itself when it is a commit hash, else the ref's content.
std::optional<std::string> cached_commit(const std::filesystem::path& storage, const std::string& revision);

// snapshots/<commit>/<filename>, checked to stay inside the snapshot folder.
std::filesystem::path pointer_path(const std::filesystem::path& storage, const std::string& commit,
                                   const std::string& filename);
std::filesystem::path no_exist_path(const std::filesystem::path& storage, const std::string& commit,
                                    const std::string& filename);
void mark_no_exist(const std::filesystem::path& storage, const std::string& commit, const std::string& filename);

// Makes `pointer` a relative symlink to `blob` (copy where symlinks are unsupported), replacing it atomically.
void create_pointer(const std::filesystem::path& blob, const std::filesystem::path& pointer);
// Writes a text file via a temporary file and rename.
void atomic_write(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

// An exclusive flock() on a lock file, released on destruction. Blocks until acquired.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// A unique suffix for temporary names (pid + counter + random).
std::string unique_suffix();

}  // namespace ortformers::hub::detail
