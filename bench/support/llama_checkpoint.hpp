#pragma once
// Benchmark support (issue 21): the Llama-shaped benchmark checkpoint with random weights — hidden 768, 12 layers,
// 12 query heads / 4 key-value heads (head size 64), intermediate 2048, untied LM head, the 32,000-piece Llama-2
// tokenizer.model (about 134 M parameters) — written as a transformers folder (model.safetensors, config.json,
// generation_config.json, tokenizer.model + tokenizer_config.json + special_tokens_map.json). The same weights go to
// GGUF through support/gguf_writer.hpp.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/core/tensor.hpp"

namespace ortformers::bench {

struct LlamaBenchShape {
  std::int64_t hidden = 768, layers = 12, heads = 12, kv_heads = 4, intermediate = 2048, vocab = 32000;
  std::int64_t max_positions = 2048;
  double rms_norm_eps = 1e-5, rope_theta = 10000.0;
  std::int64_t head_dim() const { return hidden / heads; }
};

struct LlamaBenchWeights {
  LlamaBenchShape shape;
  // transformers names (model.layers.N.self_attn.q_proj.weight, ...), float32, [out, in] for the projections.
  std::vector<std::pair<std::string, Tensor>> tensors;
  const Tensor& at(const std::string& name) const;
  std::int64_t parameters() const;
};

// Deterministic random weights (seed): projections ~ N(0, 0.05), LM head ~ N(0, 0.1) (clear greedy margins, so two
// float32 implementations pick the same tokens), embeddings ~ N(0, 1), RMSNorm weights ~ 1 + N(0, 0.1).
LlamaBenchWeights make_llama_bench_weights(const LlamaBenchShape& shape = {}, unsigned seed = 2026);

// Writes the transformers folder `dir` (created) with `tokenizer_model` (Llama-2's tokenizer.model) copied into it.
void write_llama_checkpoint(const std::filesystem::path& dir, const LlamaBenchWeights& w,
                            const std::filesystem::path& tokenizer_model);

}  // namespace ortformers::bench
