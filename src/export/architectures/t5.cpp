// T5 (transformers 4.31 modeling_t5.py, T5ForConditionalGeneration): shared token embeddings (no scaling), pre-norm
// blocks with T5LayerNorm (RMS, no bias), attention without scaling of q k^T and with the relative position bias of
// the first block (bidirectional buckets in the encoder, causal in the decoder) added to every block's scores, the
// feed-forward DenseReluDense (wi -> act -> wo) or, for the v1.1 "gated-gelu" variants, act(wi_0) * wi_1 -> wo,
// final layer norms, and the LM head: tied to `shared` with the d_model ** -0.5 rescale (tie_word_embeddings, the
// default) or lm_head.weight as it is.
// Tasks: text2text-generation(-with-past), optimum 1.17's files (encoder_decoder_family.hpp).
#include <cmath>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
#include "export/architectures/encoder_decoder_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

struct T5Dims {
  std::int64_t d_model = 0, d_kv = 0, heads = 0, d_ff = 0, vocab = 0, encoder_layers = 0, decoder_layers = 0;
  std::int64_t buckets = 32, max_distance = 128;
  float eps = 1e-6f;
  std::string act;  // transformers' ACT2FN name of the feed-forward
  bool gated = false;
  bool tied = true;  // tie_word_embeddings
  std::int64_t inner() const { return heads * d_kv; }
};

T5Dims t5_dims(const config::PretrainedConfig& c) {
  T5Dims d;
  d.d_model = positive_config_int(c, {"d_model"});
  d.d_kv = positive_config_int(c, {"d_kv"});
  d.heads = positive_config_int(c, {"num_heads"});
  d.d_ff = positive_config_int(c, {"d_ff"});
  d.vocab = positive_config_int(c, {"vocab_size"});
  d.encoder_layers = positive_config_int(c, {"num_layers"});
  d.decoder_layers = positive_config_int(c, {"num_decoder_layers"}, d.encoder_layers);
  d.buckets = positive_config_int(c, {"relative_attention_num_buckets"}, 32);
  d.max_distance = positive_config_int(c, {"relative_attention_max_distance"}, 128);
  d.eps = static_cast<float>(c.get<double>("layer_norm_epsilon", 1e-6));
  d.tied = c.get<bool>("tie_word_embeddings", true);
  // T5Config: "relu", "gated-gelu" (v1.1: gelu_new), "<act>" or "gated-<act>".
  const std::string ff = c.get<std::string>("feed_forward_proj", "relu");
  const auto dash = ff.find('-');
  if (dash == std::string::npos) {
    d.act = ff;
  } else if (ff.substr(0, dash) == "gated" && ff.find('-', dash + 1) == std::string::npos) {
    d.gated = true;
    d.act = ff == "gated-gelu" ? "gelu_new" : ff.substr(dash + 1);
  } else {
    throw InvalidArgument(c.source() + ": feed_forward_proj '" + ff +
                          "' is not a valid activation (expected '<act>' or 'gated-<act>', e.g. relu, gated-gelu)");
  }
  return d;
}

// T5Attention's q / k / v projection to heads: [batch, seq, d_model] -> [batch, heads, seq, d_kv].
std::string project_heads(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                          const T5Dims& d) {
  return split_heads(ctx, scope, linear(ctx, scope, x, prefix, d.d_model, d.inner()), d.heads, d.d_kv);
}

// T5LayerFF's DenseReluDense / DenseGatedActDense.
std::string feed_forward(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                         const T5Dims& d) {
  auto& g = ctx.g;
  std::string h;
  if (d.gated) {
    auto gate =
        activation(ctx, scope + "/act", linear(ctx, scope + "/wi_0", x, prefix + ".wi_0", d.d_model, d.d_ff), d.act);
    auto lin = linear(ctx, scope + "/wi_1", x, prefix + ".wi_1", d.d_model, d.d_ff);
    h = g.node(scope, "Mul", {gate, lin});
  } else {
    h = activation(ctx, scope + "/act", linear(ctx, scope + "/wi", x, prefix + ".wi", d.d_model, d.d_ff), d.act);
  }
  return linear(ctx, scope + "/wo", h, prefix + ".wo", d.d_ff, d.d_model);
}

class T5 : public EncoderDecoderArchitecture {
 public:
  T5() : EncoderDecoderArchitecture({"t5"}, "transformer", "text2text-generation", {"T5ForConditionalGeneration"}) {}

 protected:
  std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const T5Dims d = t5_dims(ctx.config);
    const EncoderInputs in = text_encoder_inputs(ctx);
    const std::string shared =
        ctx.weight(ctx.w.resolve("shared.weight"), ctx.w.get("shared.weight", {d.vocab, d.d_model}));
    auto h = g.node("/encoder/embed_tokens", "Gather", {shared, in.input_ids});
    const std::string s0 = "/encoder/block.0/layer.0/SelfAttention";
    const std::string seq = dim_scalar(ctx, s0 + "/seq_len", in.input_ids, 1);
    auto bias = relative_position_bias(ctx, s0 + "/relative_attention_bias",
                                       "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                       g.scalar_i64(0), seq, seq, {true, d.buckets, d.max_distance, d.heads});
    // position_bias + extended mask, computed once and passed to every block (T5Stack).
    bias = g.node(s0, "Add", {bias, additive_padding_mask(ctx, "/encoder/extended_attention_mask", in.attention_mask)});
    for (std::int64_t l = 0; l < d.encoder_layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l), s = "/encoder/block." + std::to_string(l);
      const std::string a = s + "/layer.0/SelfAttention", ap = p + ".layer.0.SelfAttention";
      auto n = t5_layer_norm(ctx, s + "/layer.0/layer_norm", h, p + ".layer.0.layer_norm", d.d_model, d.eps);
      auto q = project_heads(ctx, a + "/q", n, ap + ".q", d);
      auto k = project_heads(ctx, a + "/k", n, ap + ".k", d);
      auto v = project_heads(ctx, a + "/v", n, ap + ".v", d);
      auto c = attention_core(ctx, a, q, k, v, bias, d.heads, d.d_kv);
      h = g.node(s + "/layer.0", "Add", {h, linear(ctx, a + "/o", c, ap + ".o", d.inner(), d.d_model)});
      n = t5_layer_norm(ctx, s + "/layer.1/layer_norm", h, p + ".layer.1.layer_norm", d.d_model, d.eps);
      auto ff = feed_forward(ctx, s + "/layer.1/DenseReluDense", n, p + ".layer.1.DenseReluDense", d);
      h = g.node(s + "/layer.1", "Add", {h, ff});
      report_layer(ctx, l + 1, d.encoder_layers);
    }
    h = t5_layer_norm(ctx, "/encoder/final_layer_norm", h, "encoder.final_layer_norm", d.d_model, d.eps);
    return encoder_outputs(h, d.d_model);
  }

  std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const T5Dims d = t5_dims(ctx.config);
    Seq2SeqDecoderOptions opts;
    opts.encoder_states_with_past = true;  // optimum's T5 decoder_with_past_model.onnx keeps it (unused)
    Seq2SeqDecoderGraph dg = seq2seq_decoder_inputs(ctx, {d.decoder_layers, d.heads, d.d_kv, d.d_model, d.vocab}, opts);
    const Tensor& shared_t = ctx.w.get("shared.weight", {d.vocab, d.d_model});
    const std::string shared = ctx.weight(ctx.w.resolve("shared.weight"), shared_t);
    auto h = g.node("/decoder/embed_tokens", "Gather", {shared, dg.input_ids});
    const std::string s0 = "/decoder/block.0/layer.0/SelfAttention";
    auto self_bias = relative_position_bias(
        ctx, s0 + "/relative_attention_bias", "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        dg.past_length, dg.total_length, dg.total_length, {false, d.buckets, d.max_distance, d.heads});
    self_bias = g.node(s0, "Add", {self_bias, dg.causal_additive});
    for (std::int64_t l = 0; l < d.decoder_layers; ++l) {
      const std::string p = "decoder.block." + std::to_string(l), s = "/decoder/block." + std::to_string(l);
      // Self-attention.
      const std::string a = s + "/layer.0/SelfAttention", ap = p + ".layer.0.SelfAttention";
      auto n = t5_layer_norm(ctx, s + "/layer.0/layer_norm", h, p + ".layer.0.layer_norm", d.d_model, d.eps);
      auto q = project_heads(ctx, a + "/q", n, ap + ".q", d);
      auto k = project_heads(ctx, a + "/k", n, ap + ".k", d);
      auto v = project_heads(ctx, a + "/v", n, ap + ".v", d);
      auto [kk, vv] = seq2seq_self_cache(ctx, dg, l, a, k, v);
      auto c = attention_core(ctx, a, q, kk, vv, self_bias, d.heads, d.d_kv);
      h = g.node(s + "/layer.0", "Add", {h, linear(ctx, a + "/o", c, ap + ".o", d.inner(), d.d_model)});
      // Cross-attention (no position bias: only the encoder mask).
      const std::string x = s + "/layer.1/EncDecAttention", xp = p + ".layer.1.EncDecAttention";
      n = t5_layer_norm(ctx, s + "/layer.1/layer_norm", h, p + ".layer.1.layer_norm", d.d_model, d.eps);
      q = project_heads(ctx, x + "/q", n, xp + ".q", d);
      auto [ck, cv] = seq2seq_cross_cache(ctx, dg, l, [&] {
        return std::make_pair(project_heads(ctx, x + "/k", dg.encoder_hidden_states, xp + ".k", d),
                              project_heads(ctx, x + "/v", dg.encoder_hidden_states, xp + ".v", d));
      });
      c = attention_core(ctx, x, q, ck, cv, dg.encoder_additive, d.heads, d.d_kv);
      h = g.node(s + "/layer.1", "Add", {h, linear(ctx, x + "/o", c, xp + ".o", d.inner(), d.d_model)});
      // Feed-forward.
      n = t5_layer_norm(ctx, s + "/layer.2/layer_norm", h, p + ".layer.2.layer_norm", d.d_model, d.eps);
      h = g.node(s + "/layer.2", "Add",
                 {h, feed_forward(ctx, s + "/layer.2/DenseReluDense", n, p + ".layer.2.DenseReluDense", d)});
      report_layer(ctx, l + 1, d.decoder_layers);
    }
    h = t5_layer_norm(ctx, "/decoder/final_layer_norm", h, "decoder.final_layer_norm", d.d_model, d.eps);

    std::string logits;
    if (d.tied) {
      // sequence_output * model_dim ** -0.5, then the head tied to `shared`.
      const auto scale = static_cast<float>(std::pow(static_cast<double>(d.d_model), -0.5));
      h = g.node("/lm_head", "Mul", {h, g.scalar_f32(scale)});
      logits = tied_lm_head(ctx, h, ctx.w.resolve("shared.weight"), shared_t, shared);
    } else {
      logits = linear(ctx, "/lm_head", h, "lm_head", d.d_model, d.vocab, true);
    }
    return seq2seq_decoder_outputs(dg, logits);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_t5_architecture() {
  return std::make_unique<T5>();
}

}  // namespace ortformers::exporters
