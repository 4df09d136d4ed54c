#include "hub/cache_layout.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "ortformers/core/error.hpp"
#include "ortformers/hub/validators.hpp"

namespace fs = std::filesystem;

namespace ortformers::hub::detail {

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream ss;
  ss << ::getpid() << "." << counter++ << "." << std::hex << (rng() & 0xffffffffu);
  return ss.str();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFoundError("cannot open '" + path.string() + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void atomic_write(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw RuntimeError("cannot create folder '" + path.parent_path().string() + "': " + ec.message());
  fs::path tmp = path;
  tmp += ".tmp." + unique_suffix();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      throw RuntimeError("cannot write '" + tmp.string() + "'");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw RuntimeError("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

std::optional<std::string> read_ref(const fs::path& storage, const std::string& revision) {
  validate_revision(revision);
  fs::path ref = storage / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  std::string s = read_text(ref);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (!is_commit_hash(s))
    throw FileFormatError("cache ref file '" + ref.string() + "' does not hold a 40-hex commit hash: '" + s + "'");
  return s;
}

void write_ref(const fs::path& storage, const std::string& revision, const std::string& commit) {
  if (revision == commit) return;
  validate_revision(revision);
  auto current = read_ref(storage, revision);
  if (current && *current == commit) return;
  atomic_write(storage / "refs" / revision, commit);
}

std::optional<std::string> cached_commit(const fs::path& storage, const std::string& revision) {
  if (is_commit_hash(revision)) {
    std::error_code ec;
    if (fs::is_directory(storage / "snapshots" / revision, ec) ||
        fs::is_directory(storage / ".no_exist" / revision, ec))
      return revision;
  }
  return read_ref(storage, revision);
}

fs::path pointer_path(const fs::path& storage, const std::string& commit, const std::string& filename) {
  validate_filename(filename);
  if (!is_commit_hash(commit)) throw InvalidArgument("not a commit hash: '" + commit + "'");
  fs::path snapshots = (storage / "snapshots").lexically_normal();
  fs::path p = (snapshots / commit / filename).lexically_normal();
  auto rel = p.lexically_relative(snapshots);
  if (rel.empty() || *rel.begin() == "..")
    throw InvalidArgument("invalid pointer path: '" + filename + "' at revision '" + commit +
                          "' would leave the snapshot folder '" + snapshots.string() + "'");
  return p;
}

fs::path no_exist_path(const fs::path& storage, const std::string& commit, const std::string& filename) {
  validate_filename(filename);
  if (!is_commit_hash(commit)) throw InvalidArgument("not a commit hash: '" + commit + "'");
  return storage / ".no_exist" / commit / filename;
}

void mark_no_exist(const fs::path& storage, const std::string& commit, const std::string& filename) {
  fs::path p = no_exist_path(storage, commit, filename);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return;  // only an optimisation: a failure here must not hide the 404
  std::ofstream touch(p, std::ios::app);
}

void create_pointer(const fs::path& blob, const fs::path& pointer) {
  std::error_code ec;
  fs::create_directories(pointer.parent_path(), ec);
  if (ec) throw RuntimeError("cannot create folder '" + pointer.parent_path().string() + "': " + ec.message());
  fs::path abs_blob = fs::absolute(blob).lexically_normal();
  fs::path abs_dir = fs::absolute(pointer.parent_path()).lexically_normal();
  fs::path rel = abs_blob.lexically_relative(abs_dir);
  fs::path tmp = pointer;
  tmp += ".tmp." + unique_suffix();
  fs::create_symlink(rel, tmp, ec);
  if (ec) {
    // Filesystems without symlinks: a copy, as huggingface_hub does.
    ec.clear();
    fs::copy_file(blob, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw RuntimeError("cannot link or copy '" + blob.string() + "' to '" + pointer.string() + "': " + ec.message());
  }
  fs::rename(tmp, pointer, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw RuntimeError("cannot create '" + pointer.string() + "': " + ec.message());
  }
}

FileLock::FileLock(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw RuntimeError("cannot create lock folder '" + path.parent_path().string() + "': " + ec.message());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
  if (fd_ < 0) throw RuntimeError("cannot open lock file '" + path.string() + "': " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw RuntimeError("cannot lock '" + path.string() + "': " + std::strerror(err));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace ortformers::hub::detail
