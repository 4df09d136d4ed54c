#pragma once
// Internal: what ORTModelForCausalLM and its DecoderStep share: the session(s), the cache layout read from the
// graph and config.json, input validation, position ids and the feed of one decoder run.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoder_common.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/runtime/session.hpp"

namespace ortformers::models {

struct ORTModelForCausalLM::Graphs {
  std::shared_ptr<runtime::Session> first;      // a run without past (split: decoder_model.onnx; else = with_past)
  std::shared_ptr<runtime::Session> with_past;  // a run with past; null for NoCache
  std::filesystem::path with_past_path;
  CausalLMLayout layout = CausalLMLayout::Single;
  std::int64_t num_layers = 0;
  std::int64_t kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t vocab = 0;
  std::int64_t max_positions = 0;
  std::string max_positions_field;  // the config.json field max_positions came from
  DType cache_dtype = DType::Float32;
  // Interleaved per layer: past_key_values.<i>.key, past_key_values.<i>.value / present.<i>.key, present.<i>.value.
  std::vector<std::string> past_names;
  std::vector<std::string> present_names;

  bool caches() const noexcept { return layout != CausalLMLayout::NoCache; }
  // The session of a run with past_len cached tokens.
  runtime::Session& session_for(std::int64_t past_len) const { return past_len > 0 && with_past ? *with_past : *first; }
  // input_ids as int64 [rows, new_len] with every id in [0, vocab); InvalidArgument naming `what` otherwise.
  Tensor check_input_ids(const Tensor& input_ids, const char* what) const;
  // attention_mask as int64 [rows, past_len + new_len] (undefined: all ones); the total length within
  // max_positions.
  Tensor check_attention_mask(const Tensor& mask, std::int64_t rows, std::int64_t past_len, std::int64_t new_len,
                              const char* what) const;
  Shape cache_shape(std::int64_t rows, std::int64_t length) const { return {rows, kv_heads, length, head_dim}; }
  // The feed of one run on `session`: input_ids, attention_mask, position_ids and use_cache_branch when the graph
  // takes them; past tensors (2 * num_layers, interleaved) or, when `past` is empty, empty ones (length 0) for a
  // graph that takes a past.
  TensorMap feed(const runtime::Session& session, const Tensor& input_ids, const Tensor& attention_mask,
                 const Tensor& position_ids, const std::vector<Tensor>& past) const;
};

// transformers 4.31 prepare_inputs_for_generation: cumsum(mask, -1) - 1, 1 where mask == 0; the last new_len
// columns. mask: int64 [rows, total].
Tensor position_ids_from_mask(const Tensor& attention_mask, std::int64_t new_len);

// The DecoderStep of ORTModelForCausalLM (causal_lm_cache.cpp).
// share_buffer (needs io_binding and the Single layout): one max-length buffer per cache tensor bound as both past
// and present (CausalLMOptions::past_present_share_buffer).
std::unique_ptr<DecoderStep> make_causal_lm_step(std::shared_ptr<const ORTModelForCausalLM::Graphs> graphs,
                                                 bool io_binding, bool share_buffer);

// The metadata key `ortformers export --optimize` writes into a graph whose presents may share the past's buffer.
inline constexpr const char* kPastPresentShareBufferKey = "ortformers.past_present_share_buffer";

}  // namespace ortformers::models
