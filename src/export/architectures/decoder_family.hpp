#pragma once
// Pieces shared by the decoder-only (causal LM) architectures: the graph inputs and outputs optimum 1.17 declares
// for text-generation(-with-past), the past/present key-value cache, the causal + padding masks and the attention
// core (grouped-query attention included). gpt2.cpp and llama.cpp build their layers on these.
//
// The graph forms (BuildContext::decoder):
//   model.onnx, text-generation-with-past (optimum >= 1.14's default, legacy=False): input_ids, attention_mask
//     [batch, past + new], position_ids, past_key_values.<i>.key/value [batch, kv_heads, past, head_dim] (empty, past
//     length 0, at the first step) -> logits, present.<i>.key/value;
//   model.onnx, text-generation: input_ids, attention_mask, position_ids -> logits;
//   legacy (optimum's legacy=True): no position_ids input (positions past_length .. past_length + new - 1);
//     decoder_model.onnx (no past inputs, presents out) and decoder_with_past_model.onnx (past in, presents out).
#include <cstdint>
#include <string>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

// A decoder-only architecture: tasks text-generation and text-generation-with-past; builds its own graph.
class DecoderArchitecture : public Architecture {
 public:
  DecoderArchitecture(std::string model_type, std::string base_model_prefix, std::vector<std::string> classes)
      : model_type_(std::move(model_type)), prefix_(std::move(base_model_prefix)), classes_(std::move(classes)) {}
  std::vector<std::string> model_types() const override { return {model_type_}; }
  std::string base_model_prefix() const override { return prefix_; }
  std::vector<std::string> tasks() const override { return {"text-generation", "text-generation-with-past"}; }
  bool token_inputs() const override { return false; }
  // The causal-LM classes (GPT2LMHeadModel, LlamaForCausalLM) and the base models export text-generation-with-past,
  // as optimum's main_export infers it for a config with use_cache (the default).
  std::string task_for_class(const std::string& class_name) const override;

 protected:
  [[noreturn]] void unsupported_task(const std::string& task) const;

 private:
  std::string model_type_, prefix_;
  std::vector<std::string> classes_;
};

// The cache layout of one graph.
struct DecoderDims {
  std::int64_t layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
};

// Graph inputs (declared in `order`) and the values derived from them once per graph.
struct DecoderGraph {
  DecoderDims dims;
  bool with_past = false, presents = false;
  std::string input_ids, attention_mask, position_ids;  // position_ids: the input, or computed (legacy);
                                                        // attention_mask empty when the graph has none
  std::vector<std::string> past_key, past_value;        // per layer; empty without past
  std::string past_length;                              // int64 scalar (0 without past)
  std::vector<GraphOutput> presents_out;                // present.<i>.key/value, in layer order
  // Causal mask: bool [new, past + new], true where query i must not see key j (j > past_length + i).
  std::string causal_disallowed;
  // Padding: bool [batch, 1, 1, past + new], true where attention_mask is 0; empty without attention_mask.
  std::string padding_masked;
};

// Which input order optimum writes: GPT-2 puts the past right after input_ids, Llama after position_ids.
enum class DecoderInputOrder { PastAfterInputIds, PastLast };

// Declares the graph inputs of the form ctx.decoder asks for and computes the shared values.
DecoderGraph decoder_inputs(BuildContext& ctx, const DecoderDims& dims, DecoderInputOrder order);

// The pieces of decoder_inputs, for graphs with other inputs (the decoder of an encoder-decoder model):
// past_key_values.<i>.key/value [batch_size, kv_heads, past_sequence_length, head_dim] when dg.with_past;
void add_past_inputs(BuildContext& ctx, DecoderGraph& dg);
// then, with dg.input_ids (and dg.attention_mask, dg.position_ids where the graph has them) set, the past length,
// the positions (when dg.position_ids is empty), the causal mask and the padding mask.
void decoder_derived_values(BuildContext& ctx, DecoderGraph& dg);

// The layer's key/value [batch, kv_heads, new, head_dim] joined to its past (Concat on axis 2) and, when the graph
// has presents, registered as present.<layer>.key/value. Returns {key, value} over past + new positions.
std::pair<std::string, std::string> decoder_cache(BuildContext& ctx, DecoderGraph& dg, std::int64_t layer,
                                                  const std::string& scope, const std::string& key,
                                                  const std::string& value);

// How the scores are masked (each reproduces transformers 4.31's float32 arithmetic, fully masked rows included).
enum class DecoderMasking {
  // GPT-2: where(causal, scores, finfo.min) + (1 - mask) * finfo.min
  Gpt2,
  // Llama: scores + (causal_min + padding_min) (-inf where both mask; 4.31 does not clamp to finfo.min)
  Llama,
};

// softmax(q k^T / divisor + mask) v for q [batch, heads, new, head_dim], key/value [batch, kv_heads, past + new,
// head_dim] (heads a multiple of kv_heads: grouped-query attention, query head h reads key-value head
// h / (heads / kv_heads), transformers' repeat_kv). Returns the context [batch, new, heads * head_dim].
std::string decoder_attention(BuildContext& ctx, const DecoderGraph& dg, const std::string& scope, const std::string& q,
                              const std::string& k, const std::string& v, float divisor, DecoderMasking masking);

// [batch, new, heads * head_dim] -> [batch, heads, new, head_dim].
std::string split_heads(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t heads,
                        std::int64_t head_dim);

// The LM head tied to the token embeddings `embedding` (initializer `embedding_init`, checkpoint name `name`):
// x @ embedding^T through a Transpose of the shared initializer (one copy in the file; ONNX Runtime folds it), or,
// when the graph will be quantised, a transposed copy the quantiser turns into an int8 MatMul weight.
std::string tied_lm_head(BuildContext& ctx, const std::string& x, const std::string& name, const Tensor& embedding,
                         const std::string& embedding_init);

// The graph outputs: logits [batch_size, sequence_length, vocab], then the presents when the form has them.
std::vector<GraphOutput> decoder_outputs(const DecoderGraph& dg, const std::string& logits);

// A positive integer config field (first of `keys` present), else InvalidArgument naming it.
std::int64_t positive_config_int(const config::PretrainedConfig& c, std::initializer_list<const char*> keys,
                                 std::int64_t fallback = -1);

}  // namespace ortformers::exporters
