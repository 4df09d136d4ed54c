#pragma once
// Checkpoint readers: model.safetensors (memory-mapped, zero-copy), pytorch_model.bin (zip format of torch >= 1.6
// and the legacy sequential-pickle format), sharded checkpoints (*.index.json).
//
// Safety: pickle is read by a restricted unpickler that understands only what torch.save writes for a state dict
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter(_with_state),
// the torch.*Storage types and torch dtypes). Any other global (os.system, builtins.eval, ...) or opcode is refused
// with a FileFormatError naming it: loading a checkpoint never runs code. Every size, offset and shape is validated
// against the file before it is used; malformed files raise FileFormatError naming the file and the tensor.
//
// safetensors dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL map directly (zero-copy when aligned). Converted on
// load, losslessly: U16 -> int32, U32 -> int64, U64 -> int64 (FileFormatError if a value exceeds INT64_MAX),
// F8_E4M3 / F8_E5M2 / F8_E8M0 -> float32. Refused with UnsupportedError naming the tensor: C64, F4, F6_E2M3,
// F6_E3M2 and any dtype not listed here.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::exporters {

// Named weights, in file order. Tensors may borrow a memory-mapped file (the mapping lives as long as any tensor
// made from it, including copies handed out by at()). Tensors tied in a pytorch_model.bin (one storage, several
// names) share one buffer.
class StateDict {
 public:
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // NotFoundError naming the tensor (and the source file) when absent.
  const Tensor& at(const std::string& name) const;
  // nullptr when absent.
  const Tensor* find(const std::string& name) const;
  // Names in insertion (file) order.
  std::vector<std::string> names() const;
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  // Inserts, or replaces the tensor of an existing name (keeping its position).
  void insert(std::string name, Tensor tensor);
  // Removes a tensor; returns false when absent.
  bool erase(const std::string& name);
  // Moves every tensor of `other` in (replacing same-named ones).
  void merge(StateDict&& other);
  // Total bytes of all tensors (tied tensors counted once per name).
  std::size_t nbytes() const noexcept;

  // Iteration in insertion order: for (const auto& [name, tensor] : sd) ...
  using Entry = std::pair<std::string, Tensor>;
  std::vector<Entry>::const_iterator begin() const noexcept { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const noexcept { return entries_.end(); }

  // Where the tensors came from (a file path, several for shards); used in error messages.
  const std::string& source() const noexcept { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }
  // safetensors "__metadata__" (string -> string); empty for pickle checkpoints.
  std::map<std::string, std::string> metadata;

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
  std::string source_;
};

// model.safetensors, memory-mapped. FileFormatError naming the file (and tensor) when malformed.
StateDict load_safetensors(const std::filesystem::path& file);
// The same from bytes in memory. When `owner` is non-null, the tensors borrow `bytes` and keep `owner` alive;
// when null, every tensor is copied out of `bytes`. `source` names the data in error messages.
StateDict load_safetensors_from_memory(std::span<const std::uint8_t> bytes, const std::string& source = "<memory>",
                                       std::shared_ptr<void> owner = nullptr);

// pytorch_model.bin: the zip format (torch >= 1.6, "<prefix>/data.pkl" + "<prefix>/data/<key>") and the legacy
// format (magic number, protocol, sys_info pickles, the state-dict pickle, storage keys, raw storages).
// Non-contiguous views are made contiguous; tensors viewing one storage (tied weights) share it.
StateDict load_pytorch_bin(const std::filesystem::path& file);
// The same from bytes in memory (the tensors are copied or own their buffers; `bytes` may be freed afterwards).
StateDict load_pytorch_bin_from_memory(std::span<const std::uint8_t> bytes, const std::string& source = "<memory>");

// A storage a pickle refers to by key: its bytes, kept alive by `owner`.
struct PickleStorage {
  const std::uint8_t* data = nullptr;
  std::size_t nbytes = 0;
  std::shared_ptr<void> owner;
};
// Resolves a persistent storage id: (key, element dtype, element count) -> bytes (at least numel * dtype size).
using StorageResolver = std::function<PickleStorage(const std::string& key, DType dtype, std::int64_t numel)>;
// Runs the restricted unpickler over a torch state-dict pickle (data.pkl) and builds the tensors, asking `resolve`
// for each storage once. Exposed for the zip/legacy readers and the fuzzer.
StateDict load_state_dict_pickle(std::span<const std::uint8_t> pickle, const StorageResolver& resolve,
                                 const std::string& source = "<memory>");

// A checkpoint folder (or a single weights file), in transformers' order of preference: model.safetensors,
// model.safetensors.index.json (shards), pytorch_model.bin, pytorch_model.bin.index.json (shards).
// NotFoundError listing the names looked for when none is present. Shard files must lie inside the folder.
// Tied weights are restored from the folder's config.json (tie_weights), so both formats give the same names.
StateDict load_checkpoint(const std::filesystem::path& model_dir);
// The weights file load_checkpoint would read (the index file for shards). NotFoundError when none.
std::filesystem::path find_checkpoint_file(const std::filesystem::path& model_dir);

// One tied weight: `alias` is the same parameter as `source` (transformers' _tied_weights_keys / tie_word_embeddings).
struct TiedWeight {
  std::string source;  // the name model.safetensors keeps (save_pretrained drops the aliases)
  std::string alias;
};
// The tied weights of a model, from its config.json (model_type, tie_word_embeddings with the class default).
std::vector<TiedWeight> tied_weights(const Json& config);
// Adds every tied name missing from `weights` (either side of a pair), sharing its twin's buffer, as torch's tied
// parameters do. Returns how many names were added. FileFormatError on a non-boolean tie_word_embeddings.
std::size_t tie_weights(StateDict& weights, const Json& config);

}  // namespace ortformers::exporters
