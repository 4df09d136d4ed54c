#pragma once
// optimum's ORTModelForCausalLM: a decoder-only language model (GPT-2, Llama, Mistral, ...) exported with its
// key/value cache. from_pretrained picks the file(s) as optimum 1.17 does; forward() is optimum's forward (logits +
// past_key_values); start() makes the DecoderStep that generation::generate() drives, which owns the KV cache.
//
// Layouts (what from_pretrained accepts, in this order of preference with use_cache = true):
//   merged  decoder_model_merged.onnx: both decoders in one graph, chosen by the boolean input use_cache_branch
//   single  model.onnx (root or onnx/) whose inputs include past_key_values.* (optimum >= 1.14's default export,
//           the transformers.js / onnx-community layout); the first step feeds an empty past (length 0)
//   split   decoder_model.onnx (first step) + decoder_with_past_model.onnx (later steps): two sessions
//   no_cache  use_cache = false: decoder_model.onnx, else model.onnx; every step re-runs the whole sequence
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/decoder_step.hpp"
#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct CausalLMOptions {
  ModelOptions base;  // file_name, subfolder, export_model, session, revision, ...
  bool use_cache = true;
  // nullopt: the merged decoder when the folder has one (optimum's use_merged=None); true: require it; false: never.
  std::optional<bool> use_merged{};
  // DecoderStep: bind the present outputs to two buffers the step owns (ping-pong, grown by doubling) with ONNX
  // Runtime's IO binding, instead of taking ORT's freshly allocated present outputs as the next past. Same results;
  // see docs/generation.md "KV cache" for the per-step costs of both.
  bool io_binding = true;
  // DecoderStep with io_binding: one [rows, kv_heads, max_length, head_dim] buffer per cache tensor, bound as both
  // past_key_values.* and present.* (onnxruntime-genai's past_present_share_buffer), so that GroupQueryAttention
  // writes the new tokens in place instead of copying the whole cache into a fresh present every step. max_length
  // is DecoderStep::reserve's (generate(): prompt + max_new_tokens), else grown by doubling. nullopt: when the graph
  // says it can (metadata ortformers.past_present_share_buffer, written by `ortformers export --optimize` for
  // Llama's model.onnx); true: require it (a single model.onnx whose GroupQueryAttention nodes take the past inputs
  // and write the presents; other graphs fail at their first step); false: never. Same results either way.
  std::optional<bool> past_present_share_buffer{};
};

// One layer's cache: key and value, [batch, num_key_value_heads, sequence, head_dim], in the graph's dtype.
struct LayerKeyValue {
  Tensor key;
  Tensor value;
};
using PastKeyValues = std::vector<LayerKeyValue>;  // one entry per layer (transformers' tuple of (key, value))

struct CausalLMOutput {
  Tensor logits;                  // [batch, sequence_length, vocab] (the graph's dtype, float32 for fp32 exports)
  PastKeyValues past_key_values;  // the presents (past + new tokens); empty when use_cache is false
};

enum class CausalLMLayout { Single, Merged, Split, NoCache };
const char* layout_name(CausalLMLayout layout) noexcept;  // "model.onnx with past", "merged", ...

class ORTModelForCausalLM : public ORTModel, public GenerativeModel {
 public:
  static ORTModelForCausalLM from_pretrained(const std::string& model_id_or_path, const CausalLMOptions& options = {});

  // optimum's forward: input_ids [batch, new_len] (int64; int32 is converted); attention_mask [batch, past_len +
  // new_len] (undefined = all ones); position_ids [batch, new_len] (undefined = transformers 4.31's
  // prepare_inputs_for_generation: cumsum(mask) - 1, 1 where masked, the last new_len columns; ignored by graphs
  // without a position_ids input); past_key_values: one LayerKeyValue per layer, or empty for the first step.
  CausalLMOutput forward(const Tensor& input_ids, const Tensor& attention_mask = {}, const Tensor& position_ids = {},
                         const PastKeyValues& past_key_values = {}) const;
  CausalLMOutput operator()(const Tensor& input_ids, const Tensor& attention_mask = {}, const Tensor& position_ids = {},
                            const PastKeyValues& past_key_values = {}) const {
    return forward(input_ids, attention_mask, position_ids, past_key_values);
  }

  // GenerativeModel: a fresh state with an empty cache (encoder_inputs are ignored: decoder-only).
  std::unique_ptr<DecoderStep> start(const TensorMap& encoder_inputs = {}) const override;
  bool is_encoder_decoder() const override { return false; }
  std::int64_t vocab_size() const override;     // the logits output's last dimension, else config vocab_size
  std::int64_t max_positions() const override;  // n_positions / max_position_embeddings, 0 = unknown

  bool use_cache() const noexcept;
  bool use_merged() const noexcept;
  CausalLMLayout layout() const noexcept;
  // The graph of later steps for the split layout (decoder_with_past_model.onnx); model_path() otherwise.
  const std::filesystem::path& decoder_with_past_path() const noexcept;
  std::int64_t num_layers() const noexcept;
  std::int64_t num_key_value_heads() const noexcept;
  std::int64_t head_dim() const noexcept;
  DType cache_dtype() const noexcept;  // the dtype of past_key_values.* (float32, float16)
  bool takes_position_ids() const noexcept;
  // Whether start()'s states bind one buffer as past and present (CausalLMOptions::past_present_share_buffer).
  bool past_present_share_buffer() const noexcept { return share_buffer_; }

  struct Graphs;  // sessions + layout, shared with the DecoderSteps (which may outlive the model object)

 private:
  std::shared_ptr<const Graphs> graphs_;
  bool io_binding_ = true;
  bool share_buffer_ = false;
};

}  // namespace ortformers::models
