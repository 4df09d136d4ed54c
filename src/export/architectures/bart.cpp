// BART (transformers 4.31 modeling_bart.py, BartForConditionalGeneration): shared token embeddings (times
// sqrt(d_model) with scale_embedding), learned positions with BART's offset of 2 (BartLearnedPositionalEmbedding:
// row past + i + 2), layernorm_embedding, post-LN encoder / decoder layers (attention with the query scaled by
// head_dim ** -0.5 after its bias, residual, LayerNorm; fc1 -> activation -> fc2, residual, LayerNorm), the
// decoder's cross-attention between its self-attention and feed-forward, and the LM head tied to `shared` plus
// final_logits_bias.
// Tasks: text2text-generation(-with-past), optimum 1.17's files (encoder_decoder_family.hpp).
#include <cmath>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
#include "export/architectures/encoder_decoder_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

struct BartDims : BartStyleDims {
  std::int64_t positions = 0;
  float embed_scale = 1.0f;
};

BartDims bart_dims(const config::PretrainedConfig& c) {
  BartDims d;
  static_cast<BartStyleDims&>(d) = bart_style_dims(c);
  d.positions = positive_config_int(c, {"max_position_embeddings"});
  if (c.get<bool>("scale_embedding", false)) d.embed_scale = std::sqrt(static_cast<float>(d.d_model));
  if (c.get<bool>("add_final_layer_norm", false) || c.get<bool>("normalize_before", false))
    throw UnsupportedError(c.source() +
                           ": add_final_layer_norm / normalize_before (mBART-style layers) are not part "
                           "of BART and not supported by the bart export");
  return d;
}

// Token embeddings (scaled) + learned positions (row position + 2) -> layernorm_embedding.
std::string embed(BuildContext& ctx, const std::string& stack, const std::string& ids, const std::string& shared,
                  const std::string& first_position, const std::string& end_position, const BartDims& d) {
  auto& g = ctx.g;
  const std::string s = "/model/" + stack;
  auto h = g.node(s + "/embed_tokens", "Gather", {shared, ids});
  if (d.embed_scale != 1.0f) h = g.node(s + "/embed_tokens", "Mul", {h, g.scalar_f32(d.embed_scale)});
  const std::string pn = stack + ".embed_positions.weight";
  const std::string table = ctx.weight(ctx.w.resolve(pn), ctx.w.get(pn, {d.positions + 2, d.d_model}));
  auto pos = g.node(s + "/embed_positions", "Range",
                    {g.node(s + "/embed_positions", "Add", {first_position, g.scalar_i64(2)}),
                     g.node(s + "/embed_positions", "Add", {end_position, g.scalar_i64(2)}), g.scalar_i64(1)});
  h = g.node(s, "Add", {h, g.node(s + "/embed_positions", "Gather", {table, pos})});
  return layer_norm(ctx, s + "/layernorm_embedding", h, stack + ".layernorm_embedding", d.d_model, 1e-5f);
}

// fc1 -> activation -> fc2.
std::string ffn(BuildContext& ctx, const std::string& s, const std::string& p, const std::string& x,
                std::int64_t d_model, std::int64_t ffn_dim, const std::string& act) {
  auto h = activation(ctx, s + "/activation_fn", linear(ctx, s + "/fc1", x, p + ".fc1", d_model, ffn_dim), act);
  return linear(ctx, s + "/fc2", h, p + ".fc2", ffn_dim, d_model);
}

class Bart : public EncoderDecoderArchitecture {
 public:
  Bart() : EncoderDecoderArchitecture({"bart"}, "model", "text2text-generation", {"BartForConditionalGeneration"}) {}

 protected:
  std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const BartDims d = bart_dims(ctx.config);
    const EncoderInputs in = text_encoder_inputs(ctx);
    const std::string shared =
        ctx.weight(ctx.w.resolve("shared.weight"), ctx.w.get("shared.weight", {d.vocab, d.d_model}));
    const std::string seq = dim_scalar(ctx, "/model/encoder/seq_len", in.input_ids, 1);
    auto h = embed(ctx, "encoder", in.input_ids, shared, g.scalar_i64(0), seq, d);
    const std::string mask = additive_padding_mask(ctx, "/model/encoder/attention_mask", in.attention_mask);
    const std::int64_t H = d.encoder_heads, D = d.d_model / H;
    const float scaling = static_cast<float>(std::pow(static_cast<double>(D), -0.5));
    for (std::int64_t l = 0; l < d.encoder_layers; ++l) {
      const std::string p = "encoder.layers." + std::to_string(l), s = "/model/encoder/layers." + std::to_string(l);
      const std::string a = s + "/self_attn", ap = p + ".self_attn";
      auto q = projection_heads(ctx, a + "/q_proj", h, ap + ".q_proj", d.d_model, H, D, scaling);
      auto k = projection_heads(ctx, a + "/k_proj", h, ap + ".k_proj", d.d_model, H, D);
      auto v = projection_heads(ctx, a + "/v_proj", h, ap + ".v_proj", d.d_model, H, D);
      auto c = attention_core(ctx, a, q, k, v, mask, H, D);
      h = g.node(s, "Add", {h, linear(ctx, a + "/out_proj", c, ap + ".out_proj", d.d_model, d.d_model)});
      h = layer_norm(ctx, s + "/self_attn_layer_norm", h, p + ".self_attn_layer_norm", d.d_model, 1e-5f);
      h = g.node(s, "Add", {h, ffn(ctx, s, p, h, d.d_model, d.encoder_ffn, d.act)});
      h = layer_norm(ctx, s + "/final_layer_norm", h, p + ".final_layer_norm", d.d_model, 1e-5f);
      report_layer(ctx, l + 1, d.encoder_layers);
    }
    return encoder_outputs(h, d.d_model);
  }

  std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const BartDims d = bart_dims(ctx.config);
    const std::int64_t H = d.decoder_heads, D = d.d_model / H;
    Seq2SeqDecoderGraph dg = seq2seq_decoder_inputs(ctx, {d.decoder_layers, H, D, d.d_model, d.vocab});
    const Tensor& shared_t = ctx.w.get("shared.weight", {d.vocab, d.d_model});
    const std::string shared = ctx.weight(ctx.w.resolve("shared.weight"), shared_t);
    auto h = embed(ctx, "decoder", dg.input_ids, shared, dg.past_length, dg.total_length, d);
    const float scaling = static_cast<float>(std::pow(static_cast<double>(D), -0.5));
    for (std::int64_t l = 0; l < d.decoder_layers; ++l) {
      const std::string p = "decoder.layers." + std::to_string(l), s = "/model/decoder/layers." + std::to_string(l);
      const std::string a = s + "/self_attn", ap = p + ".self_attn";
      auto q = projection_heads(ctx, a + "/q_proj", h, ap + ".q_proj", d.d_model, H, D, scaling);
      auto k = projection_heads(ctx, a + "/k_proj", h, ap + ".k_proj", d.d_model, H, D);
      auto v = projection_heads(ctx, a + "/v_proj", h, ap + ".v_proj", d.d_model, H, D);
      auto [kk, vv] = seq2seq_self_cache(ctx, dg, l, a, k, v);
      auto c = attention_core(ctx, a, q, kk, vv, dg.causal_additive, H, D);
      h = g.node(s, "Add", {h, linear(ctx, a + "/out_proj", c, ap + ".out_proj", d.d_model, d.d_model)});
      h = layer_norm(ctx, s + "/self_attn_layer_norm", h, p + ".self_attn_layer_norm", d.d_model, 1e-5f);
      const std::string x = s + "/encoder_attn", xp = p + ".encoder_attn";
      q = projection_heads(ctx, x + "/q_proj", h, xp + ".q_proj", d.d_model, H, D, scaling);
      auto [ck, cv] = seq2seq_cross_cache(ctx, dg, l, [&] {
        return std::make_pair(
            projection_heads(ctx, x + "/k_proj", dg.encoder_hidden_states, xp + ".k_proj", d.d_model, H, D),
            projection_heads(ctx, x + "/v_proj", dg.encoder_hidden_states, xp + ".v_proj", d.d_model, H, D));
      });
      c = attention_core(ctx, x, q, ck, cv, dg.encoder_additive, H, D);
      h = g.node(s, "Add", {h, linear(ctx, x + "/out_proj", c, xp + ".out_proj", d.d_model, d.d_model)});
      h = layer_norm(ctx, s + "/encoder_attn_layer_norm", h, p + ".encoder_attn_layer_norm", d.d_model, 1e-5f);
      h = g.node(s, "Add", {h, ffn(ctx, s, p, h, d.d_model, d.decoder_ffn, d.act)});
      h = layer_norm(ctx, s + "/final_layer_norm", h, p + ".final_layer_norm", d.d_model, 1e-5f);
      report_layer(ctx, l + 1, d.decoder_layers);
    }
    // lm_head (tied to shared unless the checkpoint's own differs) + final_logits_bias [1, vocab].
    const Tensor* head = ctx.w.find_head("lm_head.weight");
    std::string logits;
    if (head == nullptr || head->raw_data() == shared_t.raw_data())
      logits = tied_lm_head(ctx, h, ctx.w.resolve("shared.weight"), shared_t, shared);
    else
      logits = linear(ctx, "/lm_head", h, "lm_head", d.d_model, d.vocab, true);
    if (const Tensor* bias = ctx.w.find_head("final_logits_bias"); bias != nullptr) {
      const Tensor& b = ctx.w.get_head("final_logits_bias", {1, d.vocab});
      logits = g.node("/final_logits_bias", "Add", {logits, ctx.weight("final_logits_bias", b)});
    }
    return seq2seq_decoder_outputs(dg, logits);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_bart_architecture() {
  return std::make_unique<Bart>();
}

}  // namespace ortformers::exporters
