// DeBERTa-v2 / v3 (transformers' modeling_deberta_v2.py): word embeddings (+ absolute positions when
// position_biased_input, + token types when type_vocab_size > 0, + embed_proj when embedding_size differs), LayerNorm,
// then multiplied by the attention mask; post-LN layers whose attention is DisentangledSelfAttention:
//   scores = Q K^T / s + c2p + p2c,  s = sqrt(head_dim * (1 + |pos_att_type|))
//   c2p[i, j] = Q_i . Kr[clamp(b(i - j) + span)] / s,   p2c[i, j] = K_j . Qr[clamp(span - b(j - i))] / s
// where Kr / Qr are the layer's key / query projections of the shared relative embeddings (LayerNorm'ed when
// norm_rel_ebd has layer_norm; share_att_key, else pos_key_proj / pos_query_proj), span = position_buckets (or
// max_relative_positions) and b the log-bucketed relative position (make_log_bucket_position, in float32 as torch
// computes it). XSoftmax masks query and key positions: padded rows get all-zero probabilities.
// --optimize: ONNX Runtime's fused Attention cannot take a content-dependent bias (c2p / p2c need Q and K), nor
// zero the padded query rows, so the attention stays the plain graph; the other fusions (Gelu) apply.
// Heads (common.hpp's encoder_head): ContextPooler (dense + pooler_hidden_act on the first token) + classifier for
// text-classification and multiple-choice, token classifier, qa_outputs, the masked-LM head (cls.predictions).
#include <cctype>
#include <cmath>
#include <limits>

#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr auto kInt64 = onnx::TensorProto_DataType_INT64;
constexpr auto kFloat32 = onnx::TensorProto_DataType_FLOAT;

struct DebertaDims {
  LayerDims layer;
  std::int64_t head_dim = 0;
  bool relative = false;
  bool c2p = false, p2c = false, share_att_key = false;
  std::int64_t span = 0;             // att_span = pos_ebd_size
  std::int64_t buckets = -1;         // position_buckets
  std::int64_t max_relative = 0;     // max_relative_positions (defaulted)
  float scale = 1.0f;                // sqrt(head_dim * scale_factor)
  bool norm_rel_layer_norm = false;  // norm_rel_ebd has layer_norm
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t bar = s.find('|', start);
    if (bar == std::string::npos) bar = s.size();
    std::string item = s.substr(start, bar - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    for (auto& ch : item) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!item.empty()) out.push_back(item);
    start = bar + 1;
  }
  return out;
}

DebertaDims deberta_dims(const config::PretrainedConfig& c) {
  DebertaDims d;
  d.layer = bert_layer_dims(c);
  d.layer.eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-7));
  if (d.layer.heads <= 0)
    throw InvalidArgument(c.source() + ": num_attention_heads must be positive, got " + std::to_string(d.layer.heads));
  d.head_dim = c.get<std::int64_t>("attention_head_size", d.layer.hidden / d.layer.heads);
  if (d.head_dim <= 0)
    throw InvalidArgument(c.source() + ": attention head size " + std::to_string(d.head_dim) + " must be positive");
  if (c.get<std::int64_t>("conv_kernel_size", 0) > 0)
    throw UnsupportedError(c.source() + ": conv_kernel_size " +
                           std::to_string(c.get<std::int64_t>("conv_kernel_size", 0)) +
                           " (DeBERTa-v2's ConvLayer) is not supported by the exporter");
  if (c.get<std::int64_t>("z_steps", 0) > 1) throw UnsupportedError(c.source() + ": z_steps > 1 is not supported");
  // pos_att_type: a list, or a "p2c|c2p" string (DebertaV2Config accepts both).
  std::vector<std::string> types;
  if (c.has("pos_att_type")) {
    const Json& p = c.json().at("pos_att_type");
    if (p.is_string()) {
      types = split_list(p.get<std::string>());
    } else if (p.is_array()) {
      for (const auto& v : p) {
        if (!v.is_string()) throw InvalidArgument(c.source() + ": pos_att_type entries must be strings");
        types.push_back(v.get<std::string>());
      }
    } else {
      throw InvalidArgument(c.source() + ": pos_att_type must be a list or a string");
    }
  }
  for (const auto& t : types) {
    if (t == "c2p")
      d.c2p = true;
    else if (t == "p2c")
      d.p2c = true;
    else
      throw UnsupportedError(c.source() + ": pos_att_type '" + t + "' is not supported (only c2p and p2c)");
  }
  d.relative = c.get<bool>("relative_attention", false);
  if (!d.relative) d.c2p = d.p2c = false;  // no relative embeddings: the position terms are skipped
  d.share_att_key = c.get<bool>("share_att_key", false);
  d.max_relative = c.get<std::int64_t>("max_relative_positions", -1);
  if (d.max_relative < 1) d.max_relative = c.require<std::int64_t>("max_position_embeddings");
  d.buckets = c.get<std::int64_t>("position_buckets", -1);
  if (d.buckets == 1 || (d.buckets > 0 && d.max_relative < 2))
    throw InvalidArgument(c.source() + ": position_buckets " + std::to_string(d.buckets) +
                          " with max_relative_positions " + std::to_string(d.max_relative) +
                          " cannot be log-bucketed (needs position_buckets >= 2)");
  d.span = d.buckets > 0 ? d.buckets : d.max_relative;
  const int factor = 1 + (d.c2p ? 1 : 0) + (d.p2c ? 1 : 0);
  d.scale = std::sqrt(static_cast<float>(d.head_dim) * static_cast<float>(factor));
  for (const auto& n : split_list(c.get<std::string>("norm_rel_ebd", "none")))
    if (n == "layer_norm") d.norm_rel_layer_norm = true;
  return d;
}

// Relative positions q - k of the sequence [seq, seq] (build_relative_position), log-bucketed when
// position_buckets > 0 (make_log_bucket_position, float32 as torch computes it), int64.
std::string relative_positions(BuildContext& ctx, const DebertaDims& d) {
  auto& g = ctx.g;
  const std::string s = "/encoder/relative_position";
  auto r = range_positions(ctx, s);
  auto rel =
      g.node(s, "Sub", {g.node(s, "Unsqueeze", {r, g.const_i64({1})}), g.node(s, "Unsqueeze", {r, g.const_i64({0})})});
  if (d.buckets <= 0) return rel;
  const auto mid = d.buckets / 2;
  auto relf = g.node(s, "Cast", {rel}, {attr("to", kFloat32)});
  auto absf = g.node(s, "Abs", {relf});
  auto sign = g.node(s, "Sign", {relf});
  // abs_pos = mid - 1 inside (-mid, mid), |rel| outside
  auto inside = g.node(s, "Less", {absf, g.scalar_f32(static_cast<float>(mid))});
  auto abs_pos = g.node(s, "Where", {inside, g.scalar_f32(static_cast<float>(mid - 1)), absf});
  // ceil(log(abs_pos / mid) / log((max_position - 1) / mid) * (mid - 1)) + mid; the denominator goes through the
  // same Log kernel so that abs_pos = max_position - 1 gives exactly mid - 1 + mid.
  auto num = g.node(s, "Log", {g.node(s, "Div", {abs_pos, g.scalar_f32(static_cast<float>(mid))})});
  const float ratio = static_cast<float>(static_cast<double>(d.max_relative - 1) / static_cast<double>(mid));
  auto den = g.node(s, "Log", {g.scalar_f32(ratio)});
  auto lp = g.node(s, "Mul", {g.node(s, "Div", {num, den}), g.scalar_f32(static_cast<float>(mid - 1))});
  lp = g.node(s, "Add", {g.node(s, "Ceil", {lp}), g.scalar_f32(static_cast<float>(mid))});
  auto small = g.node(s, "LessOrEqual", {abs_pos, g.scalar_f32(static_cast<float>(mid))});
  auto bucket = g.node(s, "Where", {small, relf, g.node(s, "Mul", {lp, sign})});
  return g.node(s, "Cast", {bucket}, {attr("to", kInt64)});
}

// clamp(v, 0, 2 * span - 1) on int64.
std::string clamp_index(BuildContext& ctx, const std::string& scope, const std::string& v, std::int64_t span) {
  auto& g = ctx.g;
  return g.node(scope, "Min", {g.node(scope, "Max", {v, g.scalar_i64(0)}), g.scalar_i64(2 * span - 1)});
}

// Computed once per graph and shared by the layers.
struct SharedAttention {
  std::string c2p_index, p2c_index;  // [seq, seq] int64
  std::string rel_embeddings;        // [2 * span, hidden]
  std::string mask4;                 // [batch, 1, seq, seq] bool: query and key both real tokens
};

SharedAttention shared_attention(BuildContext& ctx, const DebertaDims& d) {
  auto& g = ctx.g;
  SharedAttention sa;
  const std::string ms = "/encoder/attention_mask";
  auto m = g.node(ms, "Cast", {ctx.attention_mask}, {attr("to", kFloat32)});
  auto mk = g.node(ms, "Unsqueeze", {m, g.const_i64({1, 2})});  // [b, 1, 1, s]
  auto mq = g.node(ms, "Unsqueeze", {m, g.const_i64({1, 3})});  // [b, 1, s, 1]
  sa.mask4 = g.node(ms, "Cast", {g.node(ms, "Mul", {mk, mq})}, {attr("to", onnx::TensorProto_DataType_BOOL)});
  if (!d.relative) return sa;
  const auto H = d.layer.hidden;
  const std::string rn = "encoder.rel_embeddings.weight";
  const Tensor& rel = ctx.w.get(rn, {2 * d.span, H});
  sa.rel_embeddings = ctx.weight(ctx.w.resolve(rn), rel);
  if (d.norm_rel_layer_norm)
    sa.rel_embeddings = layer_norm(ctx, "/encoder/LayerNorm", sa.rel_embeddings, "encoder.LayerNorm", H, d.layer.eps);
  auto rp = relative_positions(ctx, d);
  const std::string s = "/encoder/relative_position";
  if (d.c2p) sa.c2p_index = clamp_index(ctx, s + "/c2p", g.node(s, "Add", {rp, g.scalar_i64(d.span)}), d.span);
  if (d.p2c) sa.p2c_index = clamp_index(ctx, s + "/p2c", g.node(s, "Sub", {g.scalar_i64(d.span), rp}), d.span);
  return sa;
}

// Projection of the relative embeddings by the layer's `prefix` linear, as [1, heads, head_dim, 2 * span].
std::string position_projection(BuildContext& ctx, const std::string& scope, const SharedAttention& sa,
                                const std::string& prefix, const DebertaDims& d) {
  auto& g = ctx.g;
  const auto heads = d.layer.heads;
  auto y = linear(ctx, scope, sa.rel_embeddings, prefix, d.layer.hidden, heads * d.head_dim);
  auto r = g.node(scope, "Reshape", {y, g.const_i64({1, -1, heads, d.head_dim})});
  return g.node(scope, "Transpose", {r}, {attr("perm", std::vector<std::int64_t>{0, 2, 3, 1})});
}

// DisentangledSelfAttention on tokens x [batch * seq, hidden]; returns the context [batch * seq, heads * head_dim].
std::string disentangled_attention(BuildContext& ctx, const std::string& scope, const std::string& x,
                                   const std::string& p, const SharedAttention& sa, const DebertaDims& d) {
  auto& g = ctx.g;
  const auto heads = d.layer.heads, hidden = d.layer.hidden, all = heads * d.head_dim;
  const std::string self = p + ".attention.self";
  auto shape = ctx.heads_shape(heads, d.head_dim);  // [batch, seq, heads, head_dim]
  auto proj = [&](const std::string& name, std::vector<std::int64_t> perm) {
    const std::string s = scope + "/" + name;
    auto y = linear(ctx, s, x, self + "." + name, hidden, all);
    return g.node(s, "Transpose", {g.node(s, "Reshape", {y, shape})}, {attr("perm", std::move(perm))});
  };
  auto q = proj("query_proj", {0, 2, 1, 3});  // [b, h, s, d]
  auto k = proj("key_proj", {0, 2, 1, 3});    // [b, h, s, d]
  auto v = proj("value_proj", {0, 2, 1, 3});
  auto scale = g.scalar_f32(d.scale);
  auto kt = g.node(scope, "Transpose", {k}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(scope, "MatMul", {q, g.node(scope, "Div", {kt, scale})});
  if (d.c2p || d.p2c) {
    std::string rel_att;
    auto full = g.node(scope, "Shape", {scores});  // [b, h, s, s]
    if (d.c2p) {
      const std::string s = scope + "/c2p";
      auto pk = position_projection(ctx, s, sa, d.share_att_key ? self + ".key_proj" : self + ".pos_key_proj", d);
      auto att = g.node(s, "MatMul", {q, pk});  // [b, h, s, 2 span]
      auto idx = g.node(s, "Expand", {sa.c2p_index, full});
      att = g.node(s, "GatherElements", {att, idx}, {attr("axis", -1)});
      rel_att = g.node(s, "Div", {att, scale});
    }
    if (d.p2c) {
      const std::string s = scope + "/p2c";
      auto pq = position_projection(ctx, s, sa, d.share_att_key ? self + ".query_proj" : self + ".pos_query_proj", d);
      auto att = g.node(s, "MatMul", {k, pq});  // [b, h, s_k, 2 span]
      auto idx = g.node(s, "Expand", {sa.p2c_index, full});
      att = g.node(s, "GatherElements", {att, idx}, {attr("axis", -1)});
      att = g.node(s, "Transpose", {att}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
      att = g.node(s, "Div", {att, scale});
      rel_att = rel_att.empty() ? att : g.node(s, "Add", {rel_att, att});
    }
    scores = g.node(scope, "Add", {scores, rel_att});
  }
  // XSoftmax: masked_fill(min), softmax, masked_fill(0) with the [b, 1, s, s] query-and-key mask.
  auto lowest = g.scalar_f32(std::numeric_limits<float>::lowest());
  auto probs = g.node(scope, "Softmax", {g.node(scope, "Where", {sa.mask4, scores, lowest})}, {attr("axis", -1)});
  probs = g.node(scope, "Where", {sa.mask4, probs, g.scalar_f32(0.0f)});
  auto c = g.node(scope, "MatMul", {probs, v});
  auto t = g.node(scope, "Transpose", {c}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({-1, all})});
}

class DebertaV2 : public EncoderArchitecture {
 public:
  // optimum's DebertaV2OnnxConfig has token_type_ids only when type_vocab_size > 0 (never for DeBERTa-v3); without
  // the input, row 0 of the token-type table is added, as transformers does for absent token_type_ids.
  DebertaV2() : EncoderArchitecture({"deberta-v2"}, "deberta", /*token_type_ids=*/false) {}

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const DebertaDims d = deberta_dims(c);
    const auto H = d.layer.hidden;
    const auto E = c.get<std::int64_t>("embedding_size", H);
    const auto vocab = c.require<std::int64_t>("vocab_size");
    const std::string s = "/embeddings";
    auto x = embedding(ctx, s + "/word_embeddings", in.input_ids, "embeddings.word_embeddings.weight", vocab, E);
    if (c.get<bool>("position_biased_input", true)) {
      auto pos = range_positions(ctx, s + "/position_ids");
      x = g.node(s, "Add",
                 {x, embedding(ctx, s + "/position_embeddings", pos, "embeddings.position_embeddings.weight",
                               c.require<std::int64_t>("max_position_embeddings"), E)});
    }
    if (const auto types = c.get<std::int64_t>("type_vocab_size", 0); types > 0) {
      const std::string tn = "embeddings.token_type_embeddings.weight";
      auto table = ctx.weight(ctx.w.resolve(tn), ctx.w.get(tn, {types, E}));
      auto tt = in.token_type_ids.empty() ? g.node(s, "Gather", {table, g.scalar_i64(0)}, {attr("axis", 0)})
                                          : g.node(s + "/token_type_embeddings", "Gather", {table, in.token_type_ids});
      x = g.node(s, "Add", {x, tt});
    }
    if (E != H) {
      const std::string pn = "embeddings.embed_proj.weight";
      x = g.node(s + "/embed_proj", "MatMul", {x, ctx.weight_t(ctx.w.resolve(pn), ctx.w.get(pn, {H, E}))});
    }
    x = layer_norm(ctx, s + "/LayerNorm", x, "embeddings.LayerNorm", H, d.layer.eps);
    auto mask =
        g.node(s, "Unsqueeze", {g.node(s, "Cast", {in.attention_mask}, {attr("to", kFloat32)}), g.const_i64({2})});
    x = g.node(s, "Mul", {x, mask});

    const SharedAttention sa = shared_attention(ctx, d);
    const auto layers = c.require<std::int64_t>("num_hidden_layers");
    auto shape3 = ctx.stream_shape(x);
    auto h = g.node("/encoder", "Reshape", {x, g.const_i64({-1, H})});
    for (std::int64_t i = 0; i < layers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i);
      const std::string scope = "/encoder/layer." + std::to_string(i);
      auto ctxv = disentangled_attention(ctx, scope + "/attention/self", h, p, sa, d);
      auto [ao, ab] = linear_parts(ctx, scope + "/attention/output", ctxv, p + ".attention.output.dense",
                                   d.head_dim * d.layer.heads, H);
      auto a = add_bias_residual_layer_norm(ctx, scope + "/attention/output", ao, ab, h,
                                            p + ".attention.output.LayerNorm", H, d.layer.eps);
      auto [im, ib] = linear_parts(ctx, scope + "/intermediate", a, p + ".intermediate.dense", H, d.layer.intermediate);
      auto act = bias_activation(ctx, scope + "/intermediate", im, ib, d.layer.act);
      auto [om, ob] = linear_parts(ctx, scope + "/output", act, p + ".output.dense", d.layer.intermediate, H);
      h = add_bias_residual_layer_norm(ctx, scope + "/output", om, ob, a, p + ".output.LayerNorm", H, d.layer.eps);
      report_layer(ctx, i + 1, layers);
    }
    return g.node("/encoder", "Reshape", {h, shape3});
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    // ContextPooler: dense (pooler_hidden_size) + pooler_hidden_act on the first token; its output_dim is
    // hidden_size, so transformers only runs checkpoints where both agree.
    if (const auto P = c.get<std::int64_t>("pooler_hidden_size", H); P != H)
      throw UnsupportedError(c.source() + ": pooler_hidden_size " + std::to_string(P) + " differs from hidden_size " +
                             std::to_string(H));
    EncoderHeads heads;
    heads.classification = {.scope = "/pooler",
                            .dense = "pooler.dense",
                            .activation_scope = "/pooler/activation",
                            .activation = c.get<std::string>("pooler_hidden_act", "gelu")};
    // DebertaV2LMPredictionHead: dense to embedding_size, hidden_act, LayerNorm, decoder tied to the embeddings.
    heads.masked_lm = {.dense = "cls.predictions.transform.dense",
                       .activation_scope = "/cls/predictions/transform/transform_act_fn",
                       .activation = c.get<std::string>("hidden_act", "gelu"),
                       .layer_norm = "cls.predictions.transform.LayerNorm",
                       .dim = c.get<std::int64_t>("embedding_size", H),
                       .eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-7)),
                       .decoder_weight = "cls.predictions.decoder.weight",
                       .bias_names = {"cls.predictions.bias", "cls.predictions.decoder.bias"}};
    return encoder_head(ctx, *this, task, hidden, H, heads);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_deberta_v2_architecture() {
  return std::make_unique<DebertaV2>();
}

}  // namespace ortformers::exporters
