#pragma once
// Shared machinery of the encoder-decoder exports (T5, BART, Whisper here; vision-encoder-decoder, Pix2Struct build
// on it too): optimum 1.17's file layout, graph inputs / outputs and the decoder's cache, so that an architecture file
// writes only its layers.
//
// The files of an encoder-decoder export (the driver, src/export/export.cpp, builds one graph per file and asks the
// architecture through BuildContext::decoder.encoder / past_inputs / present_outputs which one):
//   encoder_model.onnx            the architecture's encoder inputs (input_ids + attention_mask [batch_size,
//                                 encoder_sequence_length], input_features, pixel_values, ...) -> last_hidden_state;
//   decoder_model.onnx            encoder_attention_mask (when the encoder has a mask), input_ids [batch_size,
//                                 decoder_sequence_length], encoder_hidden_states -> logits, and for -with-past tasks
//                                 present.<i>.decoder.key/value [batch_size, heads, past_decoder_sequence_length + 1,
//                                 head_dim] + present.<i>.encoder.key/value [batch_size, heads,
//                                 encoder_sequence_length_out, head_dim] (cross-attention key / values);
//   decoder_with_past_model.onnx  (-with-past only) encoder_attention_mask, input_ids [batch_size, 1],
//                                 encoder_hidden_states when the architecture keeps it (T5), past_key_values.<i>.
//                                 decoder/encoder.key/value -> logits [batch_size, "1", vocab] + the decoder presents;
//   decoder_model_merged.onnx     both decoders in one graph (merge_decoders, If on use_cache_branch); the cache
//                                 branch returns empty (batch 0) encoder presents, as optimum's.
//
// An architecture derives from EncoderDecoderArchitecture and implements build_encoder_graph and
// build_decoder_graph; in the decoder it calls seq2seq_decoder_inputs once, then per layer seq2seq_self_cache and
// seq2seq_cross_cache (in layer order), and returns seq2seq_decoder_outputs(dg, logits).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

class EncoderDecoderArchitecture : public Architecture {
 public:
  // `task` is optimum's task without the suffix ("text2text-generation", "automatic-speech-recognition",
  // "image-to-text"); both it and "<task>-with-past" are exported. `classes`: transformers classes that export
  // "<task>-with-past" when the task is inferred (besides any "...ForConditionalGeneration").
  EncoderDecoderArchitecture(std::vector<std::string> model_types, std::string base_model_prefix, std::string task,
                             std::vector<std::string> classes = {})
      : model_types_(std::move(model_types)),
        prefix_(std::move(base_model_prefix)),
        task_(std::move(task)),
        classes_(std::move(classes)) {}
  std::vector<std::string> model_types() const override { return model_types_; }
  std::string base_model_prefix() const override { return prefix_; }
  std::vector<std::string> tasks() const override { return {task_, task_ + "-with-past"}; }
  bool token_inputs() const override { return false; }
  bool is_encoder_decoder() const override { return true; }
  std::string task_for_class(const std::string& class_name) const override;

  // Checks the task and builds the graph ctx.decoder asks for.
  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const final;

 protected:
  // encoder_model.onnx: declares the inputs, returns {last_hidden_state} (see text_encoder_inputs).
  virtual std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const = 0;
  // decoder_model.onnx / decoder_with_past_model.onnx (ctx.decoder.past_inputs / present_outputs).
  virtual std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const = 0;

 private:
  std::vector<std::string> model_types_;
  std::string prefix_, task_;
  std::vector<std::string> classes_;
};

// The object `key` of a composite config.json (VisionEncoderDecoderConfig "encoder" / "decoder", Pix2StructConfig
// "vision_config" / "text_config") as a config of its own (source "<file> (<key>)"); InvalidArgument when absent.
config::PretrainedConfig nested_config(const config::PretrainedConfig& c, const std::string& key);

// The sizes BART-derived configs (BartConfig, WhisperConfig) name alike: d_model, vocab_size, encoder_/decoder_layers,
// _attention_heads, _ffn_dim (all positive, d_model a multiple of both head counts) and activation_function.
struct BartStyleDims {
  std::int64_t d_model = 0, vocab = 0;
  std::int64_t encoder_layers = 0, decoder_layers = 0, encoder_heads = 0, decoder_heads = 0;
  std::int64_t encoder_ffn = 0, decoder_ffn = 0;
  std::string act;
};
BartStyleDims bart_style_dims(const config::PretrainedConfig& c);

// --- encoder ---

// input_ids, attention_mask int64 [batch_size, encoder_sequence_length] (text encoders); sets ctx.input_ids /
// ctx.attention_mask.
EncoderInputs text_encoder_inputs(BuildContext& ctx);
// {last_hidden_state [batch_size, <seq_dim>, hidden]}.
std::vector<GraphOutput> encoder_outputs(const std::string& hidden, std::int64_t hidden_size,
                                         const Dim& seq_dim = std::string("encoder_sequence_length"));

// --- decoder ---

struct Seq2SeqDecoderDims {
  std::int64_t layers = 0, heads = 0, head_dim = 0;
  std::int64_t encoder_hidden = 0;  // width of encoder_hidden_states
  std::int64_t vocab = 0;
};

struct Seq2SeqDecoderOptions {
  bool encoder_attention_mask = true;     // an encoder_attention_mask input (not Whisper, not ViT encoders)
  bool encoder_states_with_past = false;  // decoder_with_past_model.onnx keeps encoder_hidden_states (T5, unused)
  bool decoder_attention_mask = false;    // a decoder_attention_mask input [batch_size, past + new] (Pix2Struct)
  // encoder_hidden_states / encoder_attention_mask sequence dim. Whisper: "encoder_sequence_length / 2"; Pix2Struct:
  // max_patches (optimum fixes it from the processor).
  Dim encoder_sequence = std::string("encoder_sequence_length");
};

struct Seq2SeqDecoderGraph {
  Seq2SeqDecoderDims dims;
  bool with_past = false, presents = false;
  std::string input_ids;               // int64 [batch, new]
  std::string encoder_hidden_states;   // float [batch, enc, hidden]; empty when the graph has none
  std::string encoder_attention_mask;  // int64 [batch, enc]; empty when none
  std::string decoder_attention_mask;  // int64 [batch, past + new]; empty when none
  std::vector<std::string> past_self_key, past_self_value, past_cross_key, past_cross_value;  // per layer
  std::string past_length;   // int64 scalar: past decoder length (0 without past)
  std::string new_length;    // int64 scalar: decoder tokens in this run
  std::string total_length;  // past + new
  // bool [new, past + new]: true where query i must not see key j (j > past_length + i).
  std::string causal_disallowed;
  // float [new, past + new]: finfo(float32).min where causal_disallowed, else 0.
  std::string causal_additive;
  // float [batch, 1, 1, enc]: finfo(float32).min where encoder_attention_mask is 0, else 0; empty without a mask.
  std::string encoder_additive;
  // Per layer: {decoder key, decoder value, encoder key, encoder value} presents (filled by the cache calls).
  std::vector<std::vector<GraphOutput>> presents_by_layer;
};

// Declares the decoder inputs in optimum's order (encoder_attention_mask, input_ids, decoder_attention_mask,
// encoder_hidden_states, past)
// for the form ctx.decoder asks for, and computes the shared values.
Seq2SeqDecoderGraph seq2seq_decoder_inputs(BuildContext& ctx, const Seq2SeqDecoderDims& dims,
                                           const Seq2SeqDecoderOptions& options = {});

// Self-attention cache of `layer`: key / value [batch, heads, new, head_dim] joined to the past (axis 2); registers
// present.<layer>.decoder.key/value. Returns {key, value} over past + new positions.
std::pair<std::string, std::string> seq2seq_self_cache(BuildContext& ctx, Seq2SeqDecoderGraph& dg, std::int64_t layer,
                                                       const std::string& scope, const std::string& key,
                                                       const std::string& value);
// Cross-attention key / values of `layer` [batch, heads, enc, head_dim]: the past ones with past, else
// `project()` (computed from dg.encoder_hidden_states); registers present.<layer>.encoder.key/value in the graph
// without past.
std::pair<std::string, std::string> seq2seq_cross_cache(
    BuildContext& ctx, Seq2SeqDecoderGraph& dg, std::int64_t layer,
    const std::function<std::pair<std::string, std::string>()>& project);

// logits [batch_size, decoder_sequence_length (or "1" with past), vocab], then the presents.
std::vector<GraphOutput> seq2seq_decoder_outputs(const Seq2SeqDecoderGraph& dg, const std::string& logits);

// --- layers ---

// softmax(q k^T + bias) v for q [batch, heads, new, D], k / v [batch, heads, total, D] (q already scaled as the
// model scales it); `bias` (float, broadcast to [batch, heads, new, total]) may be empty. Returns the context
// [batch, new, heads * D].
std::string attention_core(BuildContext& ctx, const std::string& scope, const std::string& q, const std::string& k,
                           const std::string& v, const std::string& bias, std::int64_t heads, std::int64_t head_dim);

// Linear `prefix` (bias optional) on x [batch, seq, in], split into heads [batch, heads, seq, head_dim]; multiplied
// by `scale` after the bias when scale != 1 (BartAttention / WhisperAttention scale the query by head_dim ** -0.5).
std::string projection_heads(BuildContext& ctx, const std::string& scope, const std::string& x,
                             const std::string& prefix, std::int64_t in, std::int64_t heads, std::int64_t head_dim,
                             float scale = 1.0f);

// float [batch, 1, 1, seq]: finfo(float32).min where mask (int64) is 0, else 0 (transformers' inverted mask).
std::string additive_padding_mask(BuildContext& ctx, const std::string& scope, const std::string& mask);

// T5LayerNorm (also Pix2Struct's): weight * (x * 1 / sqrt(mean(x^2) + eps)), no mean subtraction, no bias.
std::string t5_layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                          std::int64_t dim, float eps);

// T5's relative position bias (T5Attention.compute_bias, also Pix2Struct's text decoder): float [1, heads, q, k] for
// queries at absolute positions q_begin .. q_end - 1 and keys 0 .. k_end - 1 (int64 scalars), from the table
// `weight_name` [num_buckets, heads]. The buckets (T5Attention._relative_position_bucket, float32 as PyTorch
// computes them) are a constant over the relative positions -max_distance .. max_distance (beyond, the last bucket).
struct RelativeBiasLayout {
  bool bidirectional = true;  // encoder: true; decoder: false
  std::int64_t num_buckets = 32, max_distance = 128, heads = 0;
};
std::string relative_position_bias(BuildContext& ctx, const std::string& scope, const std::string& weight_name,
                                   const std::string& q_begin, const std::string& q_end, const std::string& k_end,
                                   const RelativeBiasLayout& layout);
// The bucket of each relative position key - query in -max_distance .. max_distance (exposed for tests).
std::vector<std::int64_t> relative_position_buckets(const RelativeBiasLayout& layout);

// Shape of `x` gathered at `axis` as an int64 scalar.
std::string dim_scalar(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t axis);

}  // namespace ortformers::exporters
