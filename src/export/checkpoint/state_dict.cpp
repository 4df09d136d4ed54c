#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "export/checkpoint/detail.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace fs = std::filesystem;

namespace ortformers::exporters {

namespace detail {

std::shared_ptr<MappedFile> MappedFile::open(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw NotFoundError("file not found: " + path.string());
  if (fs::is_directory(path, ec)) throw FileFormatError(path.string() + ": is a directory, expected a weights file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileFormatError(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw FileFormatError(path.string() + ": cannot stat: " + std::strerror(err));
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->size_ = static_cast<std::size_t>(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw FileFormatError(path.string() + ": cannot memory-map: " + std::strerror(err));
    }
    file->data_ = static_cast<std::uint8_t*>(p);
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

std::shared_ptr<std::uint8_t> make_buffer(std::size_t nbytes) {
  const std::size_t rounded = ((nbytes == 0 ? 1 : nbytes) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw RuntimeError("out of memory allocating " + std::to_string(nbytes) + " bytes for a checkpoint tensor");
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::uint8_t>(static_cast<std::uint8_t*>(p), [](std::uint8_t* q) { std::free(q); });
}

Tensor tensor_over(DType dtype, const std::uint8_t* data, Shape shape, const std::shared_ptr<void>& owner) {
  const std::size_t nbytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  const bool aligned = reinterpret_cast<std::uintptr_t>(data) % dtype_size(dtype) == 0;
  if (owner && aligned && data) {
    return Tensor::from_external(dtype, const_cast<std::uint8_t*>(data), std::move(shape), owner);
  }
  auto buffer = make_buffer(nbytes);
  if (nbytes) std::memcpy(buffer.get(), data, nbytes);
  std::uint8_t* raw = buffer.get();
  return Tensor::from_external(dtype, raw, std::move(shape), std::move(buffer));
}

std::size_t checked_mul(std::size_t a, std::size_t b, const std::string& what) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw FileFormatError(what + ": size overflows");
  return r;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------
// StateDict

const Tensor& StateDict::at(const std::string& name) const {
  if (const Tensor* t = find(name)) return *t;
  std::string msg = "tensor '" + name + "' not found in checkpoint";
  if (!source_.empty()) msg += " " + source_;
  msg += " (" + std::to_string(entries_.size()) + " tensors)";
  throw NotFoundError(msg);
}

const Tensor* StateDict::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

std::vector<std::string> StateDict::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

void StateDict::insert(std::string name, Tensor tensor) {
  auto it = index_.find(name);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(tensor);
    return;
  }
  index_.emplace(name, entries_.size());
  entries_.emplace_back(std::move(name), std::move(tensor));
}

bool StateDict::erase(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end()) return false;
  const std::size_t pos = it->second;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(pos));
  index_.erase(it);
  for (auto& [n, i] : index_) {
    if (i > pos) --i;
  }
  return true;
}

void StateDict::merge(StateDict&& other) {
  for (auto& [name, tensor] : other.entries_) insert(std::move(name), std::move(tensor));
  for (auto& [k, v] : other.metadata) metadata[k] = v;
  other.entries_.clear();
  other.index_.clear();
}

std::size_t StateDict::nbytes() const noexcept {
  std::size_t total = 0;
  for (const auto& e : entries_) total += e.second.nbytes();
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Folders and shards

namespace {

constexpr const char* kCandidates[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                       "pytorch_model.bin.index.json"};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

StateDict load_weights_file(const fs::path& file);

StateDict load_sharded(const fs::path& index_file) {
  const Json index = read_json_file(index_file);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw FileFormatError(index_file.string() + ": expected an object with a \"weight_map\" object");
  }
  const fs::path dir = index_file.parent_path();
  std::map<std::string, std::vector<std::string>> by_shard;  // shard file -> tensor names
  std::vector<std::string> shard_order;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) {
      throw FileFormatError(index_file.string() + ": weight_map[\"" + name + "\"] must be a file name string");
    }
    const std::string file = shard.get<std::string>();
    const fs::path rel(file);
    bool escapes = rel.empty() || rel.is_absolute() || rel.has_root_name();
    for (const auto& part : rel) {
      if (part == "..") escapes = true;
    }
    if (escapes) {
      throw FileFormatError(index_file.string() + ": weight_map[\"" + name + "\"] = \"" + file +
                            "\" is not a file inside the checkpoint folder");
    }
    if (!by_shard.count(file)) shard_order.push_back(file);
    by_shard[file].push_back(name);
  }
  StateDict out;
  std::string sources;
  for (const auto& file : shard_order) {
    StateDict shard = load_weights_file(dir / file);
    for (const auto& name : by_shard[file]) {
      if (!shard.contains(name)) {
        throw FileFormatError(index_file.string() + ": tensor '" + name + "' is mapped to shard " + file +
                              ", which does not contain it");
      }
    }
    if (!sources.empty()) sources += ", ";
    sources += (dir / file).string();
    out.merge(std::move(shard));
  }
  out.set_source(index_file.string() + " (" + sources + ")");
  return out;
}

StateDict load_weights_file(const fs::path& file) {
  const std::string name = file.filename().string();
  if (ends_with(name, ".index.json")) return load_sharded(file);
  if (ends_with(name, ".safetensors")) return load_safetensors(file);
  if (ends_with(name, ".bin") || ends_with(name, ".pt") || ends_with(name, ".pth")) return load_pytorch_bin(file);
  throw UnsupportedError(file.string() +
                         ": unknown weights file type (expected .safetensors, .bin, .pt, .pth or *.index.json)");
}

}  // namespace

fs::path find_checkpoint_file(const fs::path& model_dir) {
  std::error_code ec;
  if (fs::is_regular_file(model_dir, ec)) return model_dir;
  if (!fs::is_directory(model_dir, ec)) throw NotFoundError("checkpoint folder not found: " + model_dir.string());
  for (const char* c : kCandidates) {
    if (fs::is_regular_file(model_dir / c, ec)) return model_dir / c;
  }
  std::string msg = "no weights found in " + model_dir.string() + " (looked for";
  for (const char* c : kCandidates) msg += std::string(" ") + c;
  throw NotFoundError(msg + ")");
}

StateDict load_checkpoint(const fs::path& model_dir) {
  const fs::path file = find_checkpoint_file(model_dir);
  StateDict weights = load_weights_file(file);
  const fs::path config = file.parent_path() / "config.json";
  if (fs::is_regular_file(config)) tie_weights(weights, read_json_file(config));
  return weights;
}

}  // namespace ortformers::exporters
