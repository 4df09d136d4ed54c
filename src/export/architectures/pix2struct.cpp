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
// mask, gated-GELU feed-forward, final RMS norm, untied lm_head. max_patches (the graphs' fixed patch count, as
// optimum takes it from the processor) is read from preprocessor_config.json when the folder has one.
#include <cmath>
#include <limits>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr float kMin = std::numeric_limits<float>::lowest();  // torch.finfo(torch.float32).min

config::PretrainedConfig sub_config(const config::PretrainedConfig& c, const std::string& key) {
  if (!c.json().contains(key) || !c.json().at(key).is_object())
    throw InvalidArgument(c.source() + ": \"" + key + "\" must be an object (Pix2StructConfig's " + key + ")");
  return config::PretrainedConfig::from_json(c.json().at(key), c.source() + " (" + key + ")");
}

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

// [batch, heads, seq, d] -> [batch, seq, heads * d].
std::string merge_heads(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t inner) {
  auto& g = ctx.g;
  auto t = g.node(scope, "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({0, 0, inner})});
}

// softmax(q k^T + bias) v, unscaled (Mesh TensorFlow initialisation); `clamp`: max(scores, finfo.min) before the
// softmax (the vision attention).
std::string attend(BuildContext& ctx, const std::string& scope, const std::string& q, const std::string& k,
                   const std::string& v, const std::string& bias, bool clamp) {
  auto& g = ctx.g;
  auto kt = g.node(scope, "Transpose", {k}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(scope, "Add", {g.node(scope, "MatMul", {q, kt}), bias});
  if (clamp) scores = g.node(scope, "Max", {scores, g.scalar_f32(kMin)});
  auto probs = g.node(scope, "Softmax", {scores}, {attr("axis", -1)});
  return g.node(scope, "MatMul", {probs, v});
}

// Pix2StructVisionMlp / Pix2StructTextDenseGatedActDense: wo(act(wi_0(x)) * wi_1(x)), no biases.
std::string gated_mlp(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                      std::int64_t hidden, std::int64_t d_ff, const std::string& act) {
  auto& g = ctx.g;
  auto a = activation(ctx, scope + "/act", linear(ctx, scope + "/wi_0", x, prefix + ".wi_0", hidden, d_ff), act);
  auto b = linear(ctx, scope + "/wi_1", x, prefix + ".wi_1", hidden, d_ff);
  return linear(ctx, scope + "/wo", g.node(scope, "Mul", {a, b}), prefix + ".wo", d_ff, hidden);
}

struct AttentionDims {
  std::int64_t hidden = 0, heads = 0, d_kv = 0;
  std::int64_t inner() const { return heads * d_kv; }
};

class Pix2Struct : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"pix2struct"}; }
  std::string base_model_prefix() const override { return ""; }
  std::vector<std::string> tasks() const override { return {"image-to-text", "image-to-text-with-past"}; }
  bool token_inputs() const override { return false; }
  std::string task_for_class(const std::string& class_name) const override {
    return class_name == "Pix2StructForConditionalGeneration" ? "image-to-text-with-past" : "";
  }
  std::int64_t hidden_size(const config::PretrainedConfig& c) const override {
    return sub_config(c, "text_config").get<std::int64_t>("hidden_size", 0);
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    if (task != "image-to-text" && task != "image-to-text-with-past")
      throw UnsupportedError("task '" + task +
                             "' is not supported for model_type 'pix2struct' (supported: image-to-text, "
                             "image-to-text-with-past)");
    const config::PretrainedConfig vision = sub_config(ctx.config, "vision_config");
    const config::PretrainedConfig text = sub_config(ctx.config, "text_config");
    return ctx.decoder.encoder ? encoder(ctx, vision) : decoder(ctx, vision, text);
  }

 private:
  static std::vector<GraphOutput> encoder(BuildContext& parent, const config::PretrainedConfig& c) {
    const Weights w(parent.w.state_dict(), "encoder");
    BuildContext ctx(parent.g, c, w);
    auto& g = ctx.g;
    const AttentionDims a{positive_config_int(c, {"hidden_size"}), positive_config_int(c, {"num_attention_heads"}),
                          positive_config_int(c, {"d_kv"})};
    const std::int64_t H = a.hidden, d_ff = positive_config_int(c, {"d_ff"});
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
      auto n = rms_norm(ctx, ls + "/pre_attention_layer_norm", x, p + ".pre_attention_layer_norm", H, eps);
      auto q =
          split_heads(ctx, ls + "/attention/query",
                      linear(ctx, ls + "/attention/query", n, p + ".attention.query", H, a.inner()), a.heads, a.d_kv);
      auto k = split_heads(ctx, ls + "/attention/key",
                           linear(ctx, ls + "/attention/key", n, p + ".attention.key", H, a.inner()), a.heads, a.d_kv);
      auto v =
          split_heads(ctx, ls + "/attention/value",
                      linear(ctx, ls + "/attention/value", n, p + ".attention.value", H, a.inner()), a.heads, a.d_kv);
      auto att = merge_heads(ctx, ls + "/attention", attend(ctx, ls + "/attention", q, k, v, bias, true), a.inner());
      att = linear(ctx, ls + "/attention/output", att, p + ".attention.output", a.inner(), H);
      x = g.node(ls, "Add", {att, x});
      auto mm = rms_norm(ctx, ls + "/pre_mlp_layer_norm", x, p + ".pre_mlp_layer_norm", H, eps);
      x = g.node(ls, "Add", {gated_mlp(ctx, ls + "/mlp", mm, p + ".mlp", H, d_ff, act), x});
      report_layer(parent, l + 1, L);
    }
    x = rms_norm(ctx, "/layernorm", x, "layernorm", H, eps);
    return {{"last_hidden_state", x, {B, P, H}}};
  }

  // compute_bias of the first self-attention (bidirectional false): [1, heads, new, past + new] for the queries at
  // past_length .. past_length + new - 1.
  static std::string relative_position_bias(BuildContext& ctx, const std::string& past_length, const std::string& total,
                                            const config::PretrainedConfig& c, std::int64_t heads) {
    auto& g = ctx.g;
    const std::string s = "/decoder/layer.0/self_attention/attention/relative_position";
    const std::int64_t buckets = positive_config_int(c, {"relative_attention_num_buckets"}, 32);
    const std::int64_t max_distance = positive_config_int(c, {"relative_attention_max_distance"}, 128);
    const std::int64_t max_exact = buckets / 2;
    if (max_exact < 1 || max_distance <= max_exact)
      throw InvalidArgument(c.source() + ": relative_attention_max_distance " + std::to_string(max_distance) +
                            " must exceed relative_attention_num_buckets / 2 = " + std::to_string(max_exact));
    auto context =
        g.node(s, "Unsqueeze", {g.node(s, "Range", {past_length, total, g.scalar_i64(1)}), g.const_i64({1})});
    auto memory =
        g.node(s, "Unsqueeze", {g.node(s, "Range", {g.scalar_i64(0), total, g.scalar_i64(1)}), g.const_i64({0})});
    // -min(memory - context, 0): how far back the key is.
    auto rel = g.node(s, "Max", {g.node(s, "Sub", {context, memory}), g.scalar_i64(0)});
    auto is_small = g.node(s, "Less", {rel, g.scalar_i64(max_exact)});
    // max_exact + log(rel / max_exact) / log(max_distance / max_exact) * (buckets - max_exact), truncated, at most
    // buckets - 1 (float32 as PyTorch; rel is raised to max_exact first where the small branch is used anyway, so
    // that no log(0) is cast to an integer).
    auto relf = g.node(s, "Cast", {g.node(s, "Max", {rel, g.scalar_i64(max_exact)})}, {attr("to", kFloat)});
    auto lg = g.node(s, "Log", {g.node(s, "Div", {relf, g.scalar_f32(static_cast<float>(max_exact))})});
    const auto denom = static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
    auto scaled = g.node(
        s, "Mul", {g.node(s, "Div", {lg, g.scalar_f32(denom)}), g.scalar_f32(static_cast<float>(buckets - max_exact))});
    auto large = g.node(s, "Add", {g.scalar_i64(max_exact), g.node(s, "Cast", {scaled}, {attr("to", kInt64)})});
    large = g.node(s, "Min", {large, g.scalar_i64(buckets - 1)});
    auto bucket = g.node(s, "Where", {is_small, rel, large});
    const std::string table = "layer.0.self_attention.attention.relative_attention_bias.weight";
    auto values = embedding(ctx, s, bucket, table, buckets, heads);  // [new, total, heads]
    auto t = g.node(s, "Transpose", {values}, {attr("perm", std::vector<std::int64_t>{2, 0, 1})});
    return g.node(s, "Unsqueeze", {t, g.const_i64({0})});
  }

  static std::vector<GraphOutput> decoder(BuildContext& parent, const config::PretrainedConfig& vision,
                                          const config::PretrainedConfig& c) {
    const Weights w(parent.w.state_dict(), "decoder");
    BuildContext ctx(parent.g, c, w);
    auto& g = ctx.g;
    const AttentionDims a{positive_config_int(c, {"hidden_size"}), positive_config_int(c, {"num_heads"}),
                          positive_config_int(c, {"d_kv"})};
    const std::int64_t H = a.hidden, d_ff = positive_config_int(c, {"d_ff"});
    const std::int64_t L = positive_config_int(c, {"num_layers"});
    const std::int64_t V = positive_config_int(c, {"vocab_size"});
    const std::int64_t enc_hidden = positive_config_int(vision, {"hidden_size"});
    const auto eps = static_cast<float>(c.get<double>("layer_norm_epsilon", 1e-6));
    const std::string act = c.get<std::string>("dense_act_fn", "gelu_new");
    const bool with_past = parent.decoder.past_inputs, presents = parent.decoder.present_outputs;

    const Dim B = std::string("batch_size"), P = patches_dim(parent);
    const Dim S = with_past ? Dim(std::int64_t{1}) : Dim(std::string("decoder_sequence_length"));
    const Dim past_dec = std::string("past_decoder_sequence_length"),
              enc_out = std::string("encoder_sequence_length_out");
    g.add_input("encoder_attention_mask", kInt64, {B, P});
    g.add_input("input_ids", kInt64, {B, S});
    g.add_input("decoder_attention_mask", kInt64, {B, std::string("past_sequence_length + 1")});
    g.add_input("encoder_hidden_states", kFloat, {B, P, enc_hidden});
    auto past_name = [](std::int64_t l, const char* part) {
      return "past_key_values." + std::to_string(l) + "." + part;
    };
    if (with_past)
      for (std::int64_t l = 0; l < L; ++l) {
        g.add_input(past_name(l, "decoder.key"), kFloat, {B, a.heads, past_dec, a.d_kv});
        g.add_input(past_name(l, "decoder.value"), kFloat, {B, a.heads, past_dec, a.d_kv});
        g.add_input(past_name(l, "encoder.key"), kFloat, {B, a.heads, enc_out, a.d_kv});
        g.add_input(past_name(l, "encoder.value"), kFloat, {B, a.heads, enc_out, a.d_kv});
      }
    ctx.input_ids = "input_ids";

    // Lengths, the self-attention bias (relative positions + causal + decoder_attention_mask) and the cross-attention
    // mask, once for every layer.
    const std::string s = "/decoder";
    const std::string seq = ctx.seq_len_scalar();
    std::string past_length = g.scalar_i64(0);
    if (with_past) {
      auto shape = g.node(s + "/past_length", "Shape", {past_name(0, "decoder.key")});
      past_length = g.node(s + "/past_length", "Gather", {shape, g.scalar_i64(2)}, {attr("axis", 0)});
    }
    auto total = g.node(s + "/total_length", "Add", {past_length, seq});
    // create_extended_attention_mask_for_decoder: causal (key j <= past_length + i) * mask, then (1 - m) * min.
    const std::string cs = s + "/extended_attention_mask";
    auto rows = g.node(cs, "Unsqueeze", {g.node(cs, "Range", {past_length, total, g.scalar_i64(1)}), g.const_i64({1})});
    auto cols =
        g.node(cs, "Unsqueeze", {g.node(cs, "Range", {g.scalar_i64(0), total, g.scalar_i64(1)}), g.const_i64({0})});
    auto causal = g.node(cs, "Cast", {g.node(cs, "LessOrEqual", {cols, rows})}, {attr("to", kFloat)});
    auto dmask = g.node(cs, "Cast", {g.node(cs, "Unsqueeze", {"decoder_attention_mask", g.const_i64({1, 2})})},
                        {attr("to", kFloat)});
    auto ext = g.node(cs, "Mul", {causal, dmask});
    ext = g.node(cs, "Mul", {g.node(cs, "Sub", {g.scalar_f32(1.0f), ext}), g.scalar_f32(kMin)});
    auto self_bias =
        g.node(s + "/position_bias", "Add", {relative_position_bias(ctx, past_length, total, c, a.heads), ext});
    // invert_attention_mask: (1 - mask[:, None, None, :]) * min.
    const std::string es = s + "/encoder_extended_attention_mask";
    auto emask = g.node(es, "Cast", {g.node(es, "Unsqueeze", {"encoder_attention_mask", g.const_i64({1, 2})})},
                        {attr("to", kFloat)});
    auto cross_bias = g.node(es, "Mul", {g.node(es, "Sub", {g.scalar_f32(1.0f), emask}), g.scalar_f32(kMin)});

    std::vector<GraphOutput> present_dec, present_enc;
    const std::vector<Dim> dec_dims{B, a.heads, std::string("past_decoder_sequence_length + 1"), a.d_kv};
    const std::vector<Dim> enc_dims{B, a.heads, enc_out, a.d_kv};
    auto x = embedding(ctx, s + "/embed_tokens", "input_ids", "embed_tokens.weight", V, H);
    for (std::int64_t l = 0; l < L; ++l) {
      const std::string p = "layer." + std::to_string(l), ls = s + "/layer." + std::to_string(l);
      const std::string li = std::to_string(l);
      auto proj = [&](const std::string& scope, const std::string& in, const std::string& prefix, std::int64_t from) {
        return split_heads(ctx, scope, linear(ctx, scope, in, prefix, from, a.inner()), a.heads, a.d_kv);
      };
      // Self-attention.
      {
        const std::string as = ls + "/self_attention/attention", ap = p + ".self_attention.attention";
        auto n = rms_norm(ctx, ls + "/self_attention/layer_norm", x, p + ".self_attention.layer_norm", H, eps);
        auto q = proj(as + "/query", n, ap + ".query", H);
        auto k = proj(as + "/key", n, ap + ".key", H);
        auto v = proj(as + "/value", n, ap + ".value", H);
        if (with_past) {
          k = g.node(as + "/present_key", "Concat", {past_name(l, "decoder.key"), k}, {attr("axis", 2)});
          v = g.node(as + "/present_value", "Concat", {past_name(l, "decoder.value"), v}, {attr("axis", 2)});
        }
        if (presents) {
          present_dec.push_back({"present." + li + ".decoder.key", k, dec_dims});
          present_dec.push_back({"present." + li + ".decoder.value", v, dec_dims});
        }
        auto att = merge_heads(ctx, as, attend(ctx, as, q, k, v, self_bias, false), a.inner());
        x = g.node(ls + "/self_attention", "Add", {x, linear(ctx, as + "/output", att, ap + ".output", a.inner(), H)});
      }
      // Cross-attention on the patches (key / value from the past with past).
      {
        const std::string as = ls + "/encoder_decoder_attention/attention",
                          ap = p + ".encoder_decoder_attention.attention";
        auto n = rms_norm(ctx, ls + "/encoder_decoder_attention/layer_norm", x,
                          p + ".encoder_decoder_attention.layer_norm", H, eps);
        auto q = proj(as + "/query", n, ap + ".query", H);
        std::string k, v;
        if (with_past) {
          k = past_name(l, "encoder.key");
          v = past_name(l, "encoder.value");
        } else {
          k = proj(as + "/key", "encoder_hidden_states", ap + ".key", enc_hidden);
          v = proj(as + "/value", "encoder_hidden_states", ap + ".value", enc_hidden);
          if (presents) {
            present_enc.push_back({"present." + li + ".encoder.key", k, enc_dims});
            present_enc.push_back({"present." + li + ".encoder.value", v, enc_dims});
          }
        }
        auto att = merge_heads(ctx, as, attend(ctx, as, q, k, v, cross_bias, false), a.inner());
        x = g.node(ls + "/encoder_decoder_attention", "Add",
                   {x, linear(ctx, as + "/output", att, ap + ".output", a.inner(), H)});
      }
      auto n = rms_norm(ctx, ls + "/mlp/layer_norm", x, p + ".mlp.layer_norm", H, eps);
      x = g.node(ls + "/mlp", "Add",
                 {x, gated_mlp(ctx, ls + "/mlp/DenseReluDense", n, p + ".mlp.DenseReluDense", H, d_ff, act)});
      report_layer(parent, l + 1, L);
    }
    x = rms_norm(ctx, s + "/final_layer_norm", x, "final_layer_norm", H, eps);
    auto logits = linear(ctx, s + "/lm_head", x, "lm_head", H, V);

    std::vector<GraphOutput> out{{"logits", logits, {B, with_past ? Dim(std::string("1")) : S, V}}};
    // optimum's order: per layer decoder key, value, then encoder key, value.
    for (std::int64_t l = 0; l < static_cast<std::int64_t>(present_dec.size() / 2); ++l) {
      out.push_back(present_dec[2 * l]);
      out.push_back(present_dec[2 * l + 1]);
      if (!present_enc.empty()) {
        out.push_back(present_enc[2 * l]);
        out.push_back(present_enc[2 * l + 1]);
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Architecture> make_pix2struct_architecture() {
  return std::make_unique<Pix2Struct>();
}

}  // namespace ortformers::exporters
