// Pix2Struct (transformers 4.31 modeling_pix2struct.py, Pix2StructForConditionalGeneration) as optimum 1.17 exports
// it for image-to-text(-with-past) (config.json "vision_config" / "text_config"; weights "encoder.*", "decoder.*"):
//   encoder_model.onnx   flattened_patches [batch_size, max_patches, 2 + patch_embed_hidden_size] (row id, column id,
//                        pixels) + attention_mask int64 [batch_size, max_patches] -> last_hidden_state. Patch
//                        projection + row / column embeddings, pre-RMS-norm layers (unscaled attention, the padding
//                        patches masked with finfo.min and the scores clamped at it; gated-GELU MLP), final RMS norm.
//   decoder_model.onnx   encoder_attention_mask, input_ids, decoder_attention_mask [batch_size, past + new],
//                        encoder_hidden_states -> logits, present.<i>.decoder.key/value, present.<i>.encoder.key/value
//                        (with past; the cross-attention key/values of the patches).
//   decoder_with_past_model.onnx   the same inputs + past_key_values.<i>.decoder/encoder.key/value -> logits and the
//                        decoder presents only (the encoder key/values come from the past).
// The text decoder is T5-like: RMS norms, unscaled attention, relative position buckets (unidirectional) in the first
// layer's self-attention shared by every layer, causal + decoder_attention_mask, cross-attention masked by the patch
// mask, gated-GELU feed-forward, final RMS norm, untied lm_head, on the shared encoder-decoder machinery
// (encoder_decoder_family.hpp: inputs, caches, T5's relative position bias and layer norm). max_patches (the graphs'
// fixed patch count, as optimum takes it from the processor) is read from preprocessor_config.json when the folder has
// one.
#include <limits>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"  // positive_config_int
#include "export/architectures/encoder_decoder_family.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr float kMin = std::numeric_limits<float>::lowest();  // torch.finfo(torch.float32).min

// The number of patches the graphs fix: preprocessor_config.json max_patches, else symbolic.
Dim patches_dim(const BuildContext& ctx) {
  const auto file = ctx.model_dir / "preprocessor_config.json";
  if (ctx.model_dir.empty() || !std::filesystem::exists(file)) return std::string("sequence_length");
  const Json j = read_json_file(file);
  if (!j.contains("max_patches")) return std::string("sequence_length");
  if (!j.at("max_patches").is_number_integer() || j.at("max_patches").get<std::int64_t>() <= 0)
    throw InvalidArgument(file.string() + ": max_patches must be a positive integer, got " +
                          j.at("max_patches").dump());
  return j.at("max_patches").get<std::int64_t>();
}

// Pix2StructVisionAttention's core: softmax(max(q k^T + bias, finfo.min)) v, unscaled (Mesh TensorFlow
// initialisation); returns the context [batch, seq, heads * d].
std::string vision_attention(BuildContext& ctx, const std::string& scope, const std::string& q, const std::string& k,
                             const std::string& v, const std::string& bias, std::int64_t inner) {
  auto& g = ctx.g;
  auto kt = g.node(scope, "Transpose", {k}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(scope, "Add", {g.node(scope, "MatMul", {q, kt}), bias});
  scores = g.node(scope, "Max", {scores, g.scalar_f32(kMin)});
  auto probs = g.node(scope, "Softmax", {scores}, {attr("axis", -1)});
  auto t = g.node(scope, "Transpose", {g.node(scope, "MatMul", {probs, v})},
                  {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({0, 0, inner})});
}

// Pix2StructVisionMlp / Pix2StructTextDenseGatedActDense: wo(act(wi_0(x)) * wi_1(x)), no biases.
std::string gated_mlp(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                      std::int64_t hidden, std::int64_t d_ff, const std::string& act) {
  auto& g = ctx.g;
  auto a = activation(ctx, scope + "/act", linear(ctx, scope + "/wi_0", x, prefix + ".wi_0", hidden, d_ff), act);
  auto b = linear(ctx, scope + "/wi_1", x, prefix + ".wi_1", hidden, d_ff);
  return linear(ctx, scope + "/wo", g.node(scope, "Mul", {a, b}), prefix + ".wo", d_ff, hidden);
}

class Pix2Struct : public EncoderDecoderArchitecture {
 public:
  Pix2Struct()
      : EncoderDecoderArchitecture({"pix2struct"}, "", "image-to-text", {"Pix2StructForConditionalGeneration"}) {}

 protected:
  std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const override {
    return encoder(ctx, nested_config(ctx.config, "vision_config"));
  }
  std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const override {
    return decoder(ctx, nested_config(ctx.config, "vision_config"), nested_config(ctx.config, "text_config"));
  }

 private:
  static std::vector<GraphOutput> encoder(BuildContext& parent, const config::PretrainedConfig& c) {
    const Weights w(parent.w.state_dict(), "encoder");
    BuildContext ctx(parent.g, c, w);
    auto& g = ctx.g;
    const std::int64_t H = positive_config_int(c, {"hidden_size"});
    const std::int64_t heads = positive_config_int(c, {"num_attention_heads"}), d_kv = positive_config_int(c, {"d_kv"});
    const std::int64_t inner = heads * d_kv, d_ff = positive_config_int(c, {"d_ff"});
    const std::int64_t L = positive_config_int(c, {"num_hidden_layers"});
    const std::int64_t patch = positive_config_int(c, {"patch_embed_hidden_size"});
    const std::int64_t rows = positive_config_int(c, {"seq_len"});
    const auto eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-6));
    const std::string act = c.get<std::string>("dense_act_fn", "gelu_new");
    const Dim B = std::string("batch_size"), P = patches_dim(parent);
    g.add_input("flattened_patches", kFloat, {B, P, patch + 2});
    g.add_input("attention_mask", kInt64, {B, P});

    // Pix2StructVisionEmbeddings: row / column ids in the first two values of each patch.
    const std::string s = "/embeddings";
    auto index = [&](std::int64_t i) {
      auto v = g.node(s, "Gather", {"flattened_patches", g.scalar_i64(i)}, {attr("axis", 2)});
      return g.node(s, "Cast", {v}, {attr("to", kInt64)});
    };
    auto pixels =
        g.node(s, "Slice", {"flattened_patches", g.const_i64({2}), g.const_i64({patch + 2}), g.const_i64({2})});
    auto x = linear(ctx, s + "/patch_projection", pixels, "embeddings.patch_projection", patch, H);
    x = g.node(s, "Add", {x, embedding(ctx, s + "/row_embedder", index(0), "embeddings.row_embedder.weight", rows, H)});
    x = g.node(s, "Add",
               {x, embedding(ctx, s + "/column_embedder", index(1), "embeddings.column_embedder.weight", rows, H)});

    // position_bias = 1 - mask[:, None, None, :]; masked_fill(== 1, finfo.min), as every layer computes it.
    const std::string ms = "/encoder/attention_mask";
    auto m =
        g.node(ms, "Cast", {g.node(ms, "Unsqueeze", {"attention_mask", g.const_i64({1, 2})})}, {attr("to", kFloat)});
    auto pb = g.node(ms, "Sub", {g.scalar_f32(1.0f), m});
    auto bias = g.node(ms, "Where", {g.node(ms, "Equal", {pb, g.scalar_f32(1.0f)}), g.scalar_f32(kMin), pb});

    for (std::int64_t l = 0; l < L; ++l) {
      const std::string p = "encoder.layer." + std::to_string(l), ls = "/encoder/layer." + std::to_string(l);
      auto n = t5_layer_norm(ctx, ls + "/pre_attention_layer_norm", x, p + ".pre_attention_layer_norm", H, eps);
      const std::string as = ls + "/attention", ap = p + ".attention";
      auto q = projection_heads(ctx, as + "/query", n, ap + ".query", H, heads, d_kv);
      auto k = projection_heads(ctx, as + "/key", n, ap + ".key", H, heads, d_kv);
      auto v = projection_heads(ctx, as + "/value", n, ap + ".value", H, heads, d_kv);
      auto att = linear(ctx, as + "/output", vision_attention(ctx, as, q, k, v, bias, inner), ap + ".output", inner, H);
      x = g.node(ls, "Add", {att, x});
      auto mm = t5_layer_norm(ctx, ls + "/pre_mlp_layer_norm", x, p + ".pre_mlp_layer_norm", H, eps);
      x = g.node(ls, "Add", {gated_mlp(ctx, ls + "/mlp", mm, p + ".mlp", H, d_ff, act), x});
      report_layer(parent, l + 1, L);
    }
    x = t5_layer_norm(ctx, "/layernorm", x, "layernorm", H, eps);
    return {{"last_hidden_state", x, {B, P, H}}};
  }

  static std::vector<GraphOutput> decoder(BuildContext& parent, const config::PretrainedConfig& vision,
                                          const config::PretrainedConfig& c) {
    const Weights w(parent.w.state_dict(), "decoder");
    BuildContext ctx(parent.g, c, w);
    ctx.decoder = parent.decoder;
    auto& g = ctx.g;
    const std::int64_t H = positive_config_int(c, {"hidden_size"}), heads = positive_config_int(c, {"num_heads"});
    const std::int64_t d_kv = positive_config_int(c, {"d_kv"}), inner = heads * d_kv;
    const std::int64_t d_ff = positive_config_int(c, {"d_ff"});
    const std::int64_t L = positive_config_int(c, {"num_layers"});
    const std::int64_t V = positive_config_int(c, {"vocab_size"});
    const auto eps = static_cast<float>(c.get<double>("layer_norm_epsilon", 1e-6));
    const std::string act = c.get<std::string>("dense_act_fn", "gelu_new");
    Seq2SeqDecoderOptions opts;
    opts.decoder_attention_mask = true;
    opts.encoder_states_with_past = true;
    opts.encoder_sequence = patches_dim(parent);
    Seq2SeqDecoderGraph dg =
        seq2seq_decoder_inputs(ctx, {L, heads, d_kv, positive_config_int(vision, {"hidden_size"}), V}, opts);
    const std::int64_t enc_hidden = dg.dims.encoder_hidden;

    // Self-attention bias, once for every layer: relative positions (first layer's table) + the extended mask of
    // create_extended_attention_mask_for_decoder, (1 - causal * decoder_attention_mask) * finfo.min (a fully masked
    // row stays finite, as in transformers).
    const std::string s = "/decoder";
    const std::string cs = s + "/extended_attention_mask";
    auto causal = g.node(cs, "Cast", {g.node(cs, "Not", {dg.causal_disallowed})}, {attr("to", kFloat)});
    auto dmask = g.node(cs, "Cast", {g.node(cs, "Unsqueeze", {dg.decoder_attention_mask, g.const_i64({1, 2})})},
                        {attr("to", kFloat)});
    auto ext = g.node(cs, "Mul", {causal, dmask});
    ext = g.node(cs, "Mul", {g.node(cs, "Sub", {g.scalar_f32(1.0f), ext}), g.scalar_f32(kMin)});
    RelativeBiasLayout rl;
    rl.bidirectional = false;
    rl.num_buckets = positive_config_int(c, {"relative_attention_num_buckets"}, 32);
    rl.max_distance = positive_config_int(c, {"relative_attention_max_distance"}, 128);
    rl.heads = heads;
    auto bias = relative_position_bias(ctx, s + "/layer.0/self_attention/attention/relative_position",
                                       "layer.0.self_attention.attention.relative_attention_bias.weight",
                                       dg.past_length, dg.total_length, dg.total_length, rl);
    auto self_bias = g.node(s + "/position_bias", "Add", {bias, ext});

    auto x = embedding(ctx, s + "/embed_tokens", dg.input_ids, "embed_tokens.weight", V, H);
    for (std::int64_t l = 0; l < L; ++l) {
      const std::string p = "layer." + std::to_string(l), ls = s + "/layer." + std::to_string(l);
      {
        const std::string as = ls + "/self_attention/attention", ap = p + ".self_attention.attention";
        auto n = t5_layer_norm(ctx, ls + "/self_attention/layer_norm", x, p + ".self_attention.layer_norm", H, eps);
        auto q = projection_heads(ctx, as + "/query", n, ap + ".query", H, heads, d_kv);
        auto k = projection_heads(ctx, as + "/key", n, ap + ".key", H, heads, d_kv);
        auto v = projection_heads(ctx, as + "/value", n, ap + ".value", H, heads, d_kv);
        auto [kk, vv] = seq2seq_self_cache(ctx, dg, l, as, k, v);
        auto att = attention_core(ctx, as, q, kk, vv, self_bias, heads, d_kv);
        x = g.node(ls + "/self_attention", "Add", {x, linear(ctx, as + "/output", att, ap + ".output", inner, H)});
      }
      {
        // Cross-attention on the patches, masked by encoder_attention_mask (its key / values from the past with past).
        const std::string as = ls + "/encoder_decoder_attention/attention",
                          ap = p + ".encoder_decoder_attention.attention";
        auto n = t5_layer_norm(ctx, ls + "/encoder_decoder_attention/layer_norm", x,
                               p + ".encoder_decoder_attention.layer_norm", H, eps);
        auto q = projection_heads(ctx, as + "/query", n, ap + ".query", H, heads, d_kv);
        auto [k, v] = seq2seq_cross_cache(ctx, dg, l, [&] {
          return std::pair{
              projection_heads(ctx, as + "/key", dg.encoder_hidden_states, ap + ".key", enc_hidden, heads, d_kv),
              projection_heads(ctx, as + "/value", dg.encoder_hidden_states, ap + ".value", enc_hidden, heads, d_kv)};
        });
        auto att = attention_core(ctx, as, q, k, v, dg.encoder_additive, heads, d_kv);
        x = g.node(ls + "/encoder_decoder_attention", "Add",
                   {x, linear(ctx, as + "/output", att, ap + ".output", inner, H)});
      }
      auto n = t5_layer_norm(ctx, ls + "/mlp/layer_norm", x, p + ".mlp.layer_norm", H, eps);
      x = g.node(ls + "/mlp", "Add",
                 {x, gated_mlp(ctx, ls + "/mlp/DenseReluDense", n, p + ".mlp.DenseReluDense", H, d_ff, act)});
      report_layer(parent, l + 1, L);
    }
    x = t5_layer_norm(ctx, s + "/final_layer_norm", x, "final_layer_norm", H, eps);
    return seq2seq_decoder_outputs(dg, linear(ctx, s + "/lm_head", x, "lm_head", H, V));
  }
};

}  // namespace

std::unique_ptr<Architecture> make_pix2struct_architecture() {
  return std::make_unique<Pix2Struct>();
}

}  // namespace ortformers::exporters
