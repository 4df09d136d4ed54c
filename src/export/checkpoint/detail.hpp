#pragma once
// Internal helpers shared by the checkpoint readers (not installed).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "ortformers/core/tensor.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters::detail {

// A read-only view of a whole file, memory-mapped copy-on-write (writes through a tensor never reach the file).
class MappedFile {
 public:
  // NotFoundError when missing, FileFormatError when it cannot be mapped.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }

 private:
  MappedFile() = default;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// An owning, 64-byte aligned, zero-initialised byte buffer of `nbytes` (a Tensor owner).
std::shared_ptr<std::uint8_t> make_buffer(std::size_t nbytes);

// A tensor over `data` kept alive by `owner` when `data` is suitably aligned for `dtype` and `owner` is set;
// otherwise an owning copy.
Tensor tensor_over(DType dtype, const std::uint8_t* data, Shape shape, const std::shared_ptr<void>& owner);

// a * b, throwing FileFormatError(`what`) on overflow of size_t.
std::size_t checked_mul(std::size_t a, std::size_t b, const std::string& what);

// Pickle internals used by the legacy reader.
struct StorageInfo {
  DType dtype;
  std::int64_t numel;
};
// Called after the state-dict pickle is parsed and before any storage is resolved, with every storage it
// references and the offset just past its STOP opcode.
using StorageLayout = std::function<void(const std::map<std::string, StorageInfo>& storages, std::size_t pickle_end)>;
StateDict unpickle_state_dict(std::span<const std::uint8_t> pickle, const StorageResolver& resolve,
                              const std::string& source, const StorageLayout& layout);
// Parses one pickle holding no storages (legacy header pickles); returns the bytes it spans.
std::size_t skip_pickle(std::span<const std::uint8_t> pickle, const std::string& source);
// Parses a pickled list of str; sets *consumed to the bytes it spans.
std::vector<std::string> unpickle_string_list(std::span<const std::uint8_t> pickle, const std::string& source,
                                              std::size_t* consumed);

}  // namespace ortformers::exporters::detail
