#pragma once
// Benchmark support (issue 21), not product code: a small GGUF (version 3) writer, following the format of the
// llama.cpp / ggml repository's docs/gguf.md — header ("GGUF", version, tensor count, key-value count), typed
// metadata key-values, tensor infos (name, dims innermost first, ggml type, offset), 32-byte aligned data — and the
// writer of the benchmark Llama (support/llama_checkpoint.hpp) as llama.cpp's "llama" architecture in F32, Q8_0 or
// Q4_0 (ggml's reference quantizers), with the tokenizer.ggml.* keys of a SentencePiece tokenizer.model.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/llama_checkpoint.hpp"

namespace ortformers::bench {

enum class GgmlType : std::uint32_t { F32 = 0, Q4_0 = 2, Q8_0 = 8 };

class GgufWriter {
 public:
  void add_u32(const std::string& key, std::uint32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_strings(const std::string& key, const std::vector<std::string>& v);
  void add_f32s(const std::string& key, const std::vector<float>& v);
  void add_i32s(const std::string& key, const std::vector<std::int32_t>& v);
  // A float32 tensor with `ne` dimensions innermost first (a row-major [rows, cols] matrix is ne = {cols, rows}),
  // stored as `type` (Q8_0/Q4_0 quantize each row in blocks of 32: ne[0] must be a multiple of 32).
  void add_tensor(const std::string& name, const std::vector<std::uint64_t>& ne, GgmlType type, const float* data);
  void write(const std::filesystem::path& file) const;

 private:
  struct TensorInfo {
    std::string name;
    std::vector<std::uint64_t> ne;
    GgmlType type;
    std::uint64_t offset;
  };
  void key(const std::string& k, std::uint32_t type);
  std::string kv_;
  std::uint64_t kv_count_ = 0;
  std::vector<TensorInfo> tensors_;
  std::string data_;
};

// ggml's reference quantizers of one row (n a multiple of 32): Q8_0 blocks {fp16 d, int8 q[32]}, d = amax / 127;
// Q4_0 blocks {fp16 d, uint8 q[16]}, d = (signed value of largest magnitude) / -8, element j in the low nibble of
// byte j and element j + 16 in its high nibble, stored offset by 8.
void quantize_row_q8_0(const float* x, std::size_t n, std::string& out);
void quantize_row_q4_0(const float* x, std::size_t n, std::string& out);

// Writes the benchmark Llama as GGUF. The q_proj / k_proj rows are permuted per head from transformers'
// rotate_half layout (pairs i, i + D/2) to llama.cpp's interleaved RoPE pairs (2i, 2i + 1), as llama.cpp's
// convert_hf_to_gguf.py does, so llama.cpp computes the same function. Norm weights stay F32.
void write_llama_gguf(const std::filesystem::path& file, const LlamaBenchWeights& w,
                      const std::filesystem::path& tokenizer_model, GgmlType type);

}  // namespace ortformers::bench
