#pragma once
// Building blocks shared by the architectures: checkpoint weight lookup with shape checks, Linear, LayerNorm,
// activations, embeddings, multi-head self-attention and the post-LN transformer layer, each in a plain form
// (standard ONNX ops, as the PyTorch exporter writes them) and an --optimize form (ONNX Runtime contrib ops).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "export/graph/graph_builder.hpp"
#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters {

// Checkpoint tensors looked up with or without the architecture prefix ("bert."), with the legacy LayerNorm
// names (gamma/beta) transformers still accepts. Shapes are checked against what the config implies.
class Weights {
 public:
  // `head_prefix`: where the head tensors are when the model is part of a bigger checkpoint ("decoder" for the
  // decoder of a VisionEncoderDecoderModel: "decoder.lm_head.weight"); tried before the plain name.
  Weights(const StateDict& state_dict, std::string prefix, std::string head_prefix = "")
      : sd_(state_dict), prefix_(std::move(prefix)), head_prefix_(std::move(head_prefix)) {}
  // The tensor for a base-model name (tried as "<prefix>.<name>", then "<name>"), or nullptr.
  const Tensor* find(const std::string& name) const;
  // The same for a head tensor (no prefix).
  const Tensor* find_head(const std::string& name) const;
  // The resolved checkpoint name (for messages and initializer names).
  std::string resolve(const std::string& name) const;
  // NotFoundError naming the tensor when absent; InvalidArgument naming it when its shape differs.
  const Tensor& get(const std::string& name, const Shape& expected) const;
  const Tensor& get_head(const std::string& name, const Shape& expected) const;
  const StateDict& state_dict() const noexcept { return sd_; }

 private:
  const Tensor* lookup(const std::string& full) const;
  const Tensor& checked(const Tensor* t, const std::string& name, const Shape& expected) const;
  const StateDict& sd_;
  std::string prefix_, head_prefix_;
};

// A weight reference: checkpoint name (as resolved), tensor.
struct WeightRef {
  std::string name;
  const Tensor* tensor = nullptr;
};

struct BuildContext {
  BuildContext(GraphBuilder& graph, const config::PretrainedConfig& cfg, const Weights& weights)
      : g(graph), config(cfg), w(weights) {}
  GraphBuilder& g;
  const config::PretrainedConfig& config;
  const Weights& w;
  bool optimize = false;
  bool quantize = false;  // the graph will be quantised (--quantize): weights shared by Gather and MatMul get a
                          // transposed MatMul copy the quantiser can replace
  std::function<void(const std::string&)> on_progress;  // optional, called per layer

  // Decoder-only graphs (text-generation, architectures/decoder_family.hpp) and encoder-decoder graphs
  // (architectures/encoder_decoder_family.hpp): which form to build.
  struct DecoderForm {
    bool past_inputs = true;      // past_key_values.<i>.key/value inputs
    bool present_outputs = true;  // present.<i>.key/value outputs
    bool position_ids = true;     // a position_ids input (else positions start at the past length)
    bool encoder = false;         // encoder-decoder exports: build encoder_model.onnx (else a decoder file)
    bool fused = false;           // --optimize: contrib-op decoder (llama: GroupQueryAttention, RotaryEmbedding,
                                  // SkipSimplifiedLayerNormalization, packed MatMuls), same inputs and outputs
  } decoder;
  // The checkpoint folder (architectures that read more than config.json, e.g. Pix2Struct's max_patches from
  // preprocessor_config.json); may be empty.
  std::filesystem::path model_dir;

  // Values computed once per graph.
  std::string input_ids, attention_mask, token_type_ids;  // token_type_ids empty when absent
  std::string additive_mask_cache, mask_i32_cache, seq_len_cache;
  std::string stream_shape_cache;
  std::map<std::int64_t, std::string> heads_shape_cache;  // by number of heads

  // Shape [batch, seq, hidden] of the encoder's hidden-state stream, taken once from the first layer's input: the
  // transformer layers below work on tokens [batch * seq, hidden] and restore it at their end. One encoder stream
  // per graph (every architecture here has one).
  std::string stream_shape(const std::string& x3d);
  // [batch, seq, heads, hidden / heads] for splitting a token tensor into heads.
  std::string heads_shape(std::int64_t heads, std::int64_t head_dim);

  // [batch, 1, 1, seq] float: (1 - mask) * finfo(float32).min.
  std::string additive_mask();
  // attention_mask as int32 [batch, seq] (contrib Attention's mask_index).
  std::string mask_int32();
  // Sequence length as a 1-D int64 tensor [1]... scalar int64.
  std::string seq_len_scalar();

  // Initializer of a checkpoint tensor converted to float32 (same layout).
  std::string weight(const std::string& ckpt_name, const Tensor& t);
  // Initializer of a 2-D checkpoint tensor [out, in] transposed to [in, out] (a MatMul operand).
  std::string weight_t(const std::string& ckpt_name, const Tensor& t);
  // Several [out_i, in] tensors transposed and concatenated into [in, sum(out_i)] (packed QKV).
  std::string weight_t_concat(const std::string& key, const std::vector<const Tensor*>& ts);
  std::string bias_concat(const std::string& key, const std::vector<const Tensor*>& ts);
};

struct EncoderInputs {
  std::string input_ids, attention_mask, token_type_ids;  // [batch, seq] int64; token_type_ids may be empty
};

// Linear layer `prefix`.weight [out, in] / `prefix`.bias [out] on x [..., in]. `head` = no base-model prefix.
std::string linear(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                   std::int64_t in, std::int64_t out, bool head = false);
// MatMul part only; returns {matmul output, bias initializer or ""}.
std::pair<std::string, std::string> linear_parts(BuildContext& ctx, const std::string& scope, const std::string& x,
                                                 const std::string& prefix, std::int64_t in, std::int64_t out,
                                                 bool head = false);
// LayerNorm over the last axis with `prefix`.weight / `prefix`.bias.
std::string layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                       std::int64_t dim, float eps, bool head = false);
std::string layer_norm_values(BuildContext& ctx, const std::string& scope, const std::string& x,
                              const std::string& gamma, const std::string& beta, float eps);
// Activation by transformers' ACT2FN name: gelu (erf), gelu_new / gelu_pytorch_tanh / gelu_fast (tanh), relu,
// tanh, silu/swish. UnsupportedError otherwise.
std::string activation(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& act);
// act(x + bias): Add + com.microsoft Gelu / FastGelu when optimising and exact, else Add + activation.
std::string bias_activation(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& bias,
                            const std::string& act);
// LayerNorm(x + bias + residual) as Add + LayerNormalization (not SkipLayerNormalization: slower on CPU, see .cpp).
std::string add_bias_residual_layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x,
                                         const std::string& bias, const std::string& residual,
                                         const std::string& ln_prefix, std::int64_t dim, float eps);
// Gather rows of an embedding matrix `name` [rows, dim] with int64 ids.
std::string embedding(BuildContext& ctx, const std::string& scope, const std::string& ids, const std::string& name,
                      std::int64_t rows, std::int64_t dim);
// Positions 0..seq-1 as int64 [seq].
std::string range_positions(BuildContext& ctx, const std::string& scope);
// RoBERTa positions: cumsum(ids != pad) * (ids != pad) + pad, int64 [batch, seq].
std::string padded_positions(BuildContext& ctx, const std::string& scope, const std::string& ids,
                             std::int64_t padding_idx);

// Names of the tensors of a post-LN transformer layer (BERT layout), relative to the base-model prefix.
struct LayerNames {
  std::string query, key, value;     // Linear prefixes
  std::string attention_output;      // Linear after attention
  std::string attention_layer_norm;  // LayerNorm after the attention residual
  std::string intermediate;          // first FFN Linear
  std::string output;                // second FFN Linear
  std::string output_layer_norm;     // LayerNorm after the FFN residual
};
struct LayerDims {
  std::int64_t hidden = 0, heads = 0, intermediate = 0;
  float eps = 1e-12f;
  std::string act = "gelu";
};
// Multi-head self-attention; returns the context [batch, seq, hidden] before the output projection.
// `position_bias` ([1 or batch, heads, seq, seq], added to the scores) may be empty.
// The layers use self_attention_tokens: x and the result are tokens [batch * seq, hidden] (ctx.stream_shape set). The
// padding mask of ctx.attention_mask is applied when the graph has one (text); with ctx.attention_mask empty every
// position is attended to (vision, audio). Absent q/k/v biases are zero.
std::string self_attention(BuildContext& ctx, const std::string& scope, const std::string& x, const LayerNames& n,
                           const LayerDims& d, const std::string& position_bias = "");
std::string self_attention_tokens(BuildContext& ctx, const std::string& scope, const std::string& x,
                                  const LayerNames& n, const LayerDims& d, const std::string& position_bias = "");
// One post-LN transformer layer (BERT, RoBERTa, ELECTRA, ALBERT, DistilBERT, MPNet).
std::string transformer_layer(BuildContext& ctx, const std::string& scope, const std::string& x, const LayerNames& n,
                              const LayerDims& d, const std::string& position_bias = "");

// One pre-LN transformer layer (ViT, Wav2Vec2 / WavLM with do_stable_layer_norm): h = x + attention(LN_a(x)),
// out = h + FFN(LN_f(h)), with LN_a = n.attention_layer_norm and LN_f = n.output_layer_norm. `position_bias`, when
// given, is called with LN_a(x) as [batch, seq, hidden] (the attention's input, from which WavLM gates its bias) and
// returns the bias added to the attention scores.
std::string pre_ln_transformer_layer(
    BuildContext& ctx, const std::string& scope, const std::string& x, const LayerNames& n, const LayerDims& d,
    const std::function<std::string(const std::string& normed)>& position_bias = nullptr);

// First token of the sequence: x[:, 0] -> [batch, hidden].
std::string first_token(BuildContext& ctx, const std::string& scope, const std::string& x);
// Tied decoder: logits = x @ embedding^T + bias, with `embedding_init` an existing [vocab, dim] initializer.
std::string tied_decoder(BuildContext& ctx, const std::string& scope, const std::string& x,
                         const std::string& embedding_init, const std::string& bias_init);
// QA split: logits [batch, seq, 2] -> start_logits, end_logits [batch, seq].
std::pair<std::string, std::string> split_start_end(BuildContext& ctx, const std::string& scope,
                                                    const std::string& logits);

}  // namespace ortformers::exporters
