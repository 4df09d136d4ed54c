// Llama (transformers 4.31 modeling_llama.py): token embeddings, pre-RMSNorm blocks (input_layernorm, attention with
// rotary position embeddings on q/k and grouped-query attention (num_key_value_heads), post_attention_layernorm,
// SwiGLU MLP gate/up/down), final norm, LM head (lm_head.weight, or embed_tokens when tie_word_embeddings).
// RoPE: the cos/sin tables of LlamaRotaryEmbedding (float32, max_position_embeddings rows), gathered by position_ids;
// rope_scaling {"type": "linear", "factor": f} divides the positions by f (LlamaLinearScalingRotaryEmbedding).
// Tasks: text-generation(-with-past) (decoder_family.hpp for the graph forms).
// --optimize (ctx.decoder.fused): the contrib-op graph of onnxruntime-genai's model builder, with optimum's inputs
// and outputs unchanged (build_fused below).
#include <cmath>
#include <limits>
#include <vector>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

// LlamaRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)).
std::string rms_norm(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                     std::int64_t dim, float eps) {
  auto& g = ctx.g;
  const std::string wn = prefix + ".weight";
  auto w = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {dim}));
  auto sq = g.node(scope, "Pow", {x, g.scalar_f32(2.0f)});
  auto var = g.node(scope, "ReduceMean", {sq}, {attr("axes", std::vector<std::int64_t>{-1}), attr("keepdims", 1)});
  auto r = g.node(scope, "Sqrt", {g.node(scope, "Add", {var, g.scalar_f32(eps)})});
  auto n = g.node(scope, "Mul", {x, g.node(scope, "Reciprocal", {r})});
  return g.node(scope, "Mul", {w, n});
}

// rope_scaling: null, or {"type": "linear", "factor": > 0}. Returns the factor (1 without scaling).
float linear_rope_factor(const config::PretrainedConfig& c) {
  if (!c.has("rope_scaling")) return 1.0f;
  const Json& rs = c.json().at("rope_scaling");
  if (!rs.is_object())
    throw InvalidArgument(c.source() + ": rope_scaling must be null or an object with type and factor, got " +
                          rs.dump());
  const std::string type = rs.contains("type") && rs.at("type").is_string() ? rs.at("type").get<std::string>()
                           : rs.contains("rope_type") && rs.at("rope_type").is_string()
                               ? rs.at("rope_type").get<std::string>()
                               : std::string();
  if (type != "linear")
    throw UnsupportedError(c.source() + ": rope_scaling.type '" + type +
                           "' is not supported by the exporter (supported: linear, or rope_scaling null)");
  if (!rs.contains("factor") || !rs.at("factor").is_number() || rs.at("factor").get<double>() <= 0)
    throw InvalidArgument(c.source() + ": rope_scaling.factor must be a number > 0, got " +
                          (rs.contains("factor") ? rs.at("factor").dump() : std::string("nothing")));
  return static_cast<float>(rs.at("factor").get<double>());
}

struct LlamaDims {
  std::int64_t E, H, KV, L, I, V, NP, D;
};

// The fused decoder (--optimize), as onnxruntime-genai's builder writes Llama, with optimum's interface:
//  - RMSNorm: SkipSimplifiedLayerNormalization (com.microsoft) fusing each residual Add with the next norm (its 4th
//    output is the residual sum); the first norm stays decomposed (SimplifiedLayerNormalization lives in the ONNX
//    domain under ORT, which the ONNX checker does not know);
//  - q/k/v: one packed MatMul [E, (H + 2 KV) D] + Split; RotaryEmbedding (com.microsoft, non-interleaved, the
//    half-size cos/sin caches of LlamaRotaryEmbedding) on q and k with the graph's position_ids, so left-padded
//    batches get transformers' positions;
//  - attention: GroupQueryAttention (com.microsoft) over past + new key/value (its present outputs are optimum's
//    present.*), seqlens_k = total length - 1 for every row (causal over the whole cache) and the padding as its
//    attention_bias [batch, 1, new, total] (finfo.min where attention_mask is 0, as the plain graph adds); nothing
//    reads the past's length, so a runtime may bind one max-length buffer as past and present (export.cpp marks
//    model.onnx with ortformers.past_present_share_buffer) and GroupQueryAttention writes the new tokens in place;
//  - MLP: gate and up as one packed MatMul [E, 2 I] + Split, act(gate) * up, down.
std::vector<GraphOutput> build_fused(BuildContext& ctx, DecoderGraph& dg, const LlamaDims& d, float eps,
                                     const std::string& act, float theta, float factor) {
  auto& g = ctx.g;
  // Plain copies, not a structured binding: clang before 16 cannot capture bindings in the lambdas below.
  const std::int64_t E = d.E, H = d.H, KV = d.KV, L = d.L, I = d.I, V = d.V, NP = d.NP, D = d.D;
  const Tensor& embed = ctx.w.get("embed_tokens.weight", {V, E});
  const std::string embed_init = ctx.weight(ctx.w.resolve("embed_tokens.weight"), embed);
  auto h = g.node("/model/embed_tokens", "Gather", {embed_init, dg.input_ids});

  const std::string rope_key = "rope-half:" + std::to_string(NP) + ":" + std::to_string(D) + ":" +
                               std::to_string(theta) + ":" + std::to_string(factor);
  auto cache = [&](bool sine) {
    return g.add_float_initializer(rope_key + (sine ? ":sin" : ":cos"), sine ? "sin_cache" : "cos_cache", {NP, D / 2},
                                   [NP, D, theta, factor, sine](float* dst) {
                                     for (std::int64_t p = 0; p < NP; ++p) {
                                       const float t = static_cast<float>(p) / factor;
                                       for (std::int64_t i = 0; i < D / 2; ++i) {
                                         const float inv =
                                             1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(D));
                                         const auto f = static_cast<double>(t * inv);
                                         dst[p * (D / 2) + i] = static_cast<float>(sine ? std::sin(f) : std::cos(f));
                                       }
                                     }
                                   });
  };
  const std::string cos_cache = cache(false), sin_cache = cache(true);

  // GroupQueryAttention's lengths: every row sees the whole cache (total - 1), the padding goes in the bias.
  const std::string s = "/model/attn_inputs";
  auto mask_shape = g.node(s, "Shape", {dg.attention_mask});
  auto total = g.node(s, "Gather", {mask_shape, g.scalar_i64(1)}, {attr("axis", 0)});
  auto batch = g.node(s, "Gather", {mask_shape, g.scalar_i64(0)}, {attr("axis", 0)});
  auto total_i32 =
      g.node(s, "Cast", {total}, {attr("to", static_cast<std::int64_t>(onnx::TensorProto_DataType_INT32))});
  auto last = g.node(s, "Sub",
                     {total_i32, g.node(s, "Cast", {g.scalar_i64(1)},
                                        {attr("to", static_cast<std::int64_t>(onnx::TensorProto_DataType_INT32))})});
  auto seqlens_k = g.node(s, "Expand", {last, g.node(s, "Unsqueeze", {batch, g.const_i64({0})})});
  auto bias_row = g.node(s, "Where",
                         {dg.padding_masked, g.scalar_f32(std::numeric_limits<float>::lowest()),
                          g.scalar_f32(0.0f)});  // [batch, 1, 1, total]
  auto bias_shape = g.node(s, "Concat",
                           {g.node(s, "Unsqueeze", {batch, g.const_i64({0})}), g.const_i64({1}),
                            g.node(s, "Unsqueeze", {ctx.seq_len_scalar(), g.const_i64({0})}),
                            g.node(s, "Unsqueeze", {total, g.const_i64({0})})},
                           {attr("axis", 0)});
  auto attention_bias = g.node(s, "Expand", {bias_row, bias_shape});

  auto skip_norm = [&](const std::string& scope, const std::string& x, const std::string& residual,
                       const std::string& prefix) {
    const std::string wn = prefix + ".weight";
    auto w = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {E}));
    auto out =
        g.node_n(scope, "SkipSimplifiedLayerNormalization", {x, residual, w}, 4, {attr("epsilon", eps)}, kMsDomain);
    return std::make_pair(out[0], out[3]);  // normalised, x + residual
  };

  std::string a = rms_norm(ctx, "/model/layers.0/input_layernorm", h, "layers.0.input_layernorm", E, eps);
  for (std::int64_t l = 0; l < L; ++l) {
    const std::string p = "layers." + std::to_string(l), sc = "/model/layers." + std::to_string(l);
    const std::string at = sc + "/self_attn";
    std::vector<const Tensor*> qkv_w;
    for (const char* n : {".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight"})
      qkv_w.push_back(&ctx.w.get(p + n, {std::string(n).find("q_proj") != std::string::npos ? H * D : KV * D, E}));
    auto w_qkv = ctx.weight_t_concat(ctx.w.resolve(p + ".self_attn.q_proj.weight") + "+k_proj+v_proj", qkv_w);
    auto qkv = g.node_n(at + "/qkv_proj", "Split",
                        {g.node(at + "/qkv_proj", "MatMul", {a, w_qkv}), g.const_i64({H * D, KV * D, KV * D})}, 3,
                        {attr("axis", -1)});
    auto rotary = [&](const std::string& scope, const std::string& x, std::int64_t heads) {
      return g.node(scope, "RotaryEmbedding", {x, dg.position_ids, cos_cache, sin_cache},
                    {attr("interleaved", 0), attr("num_heads", heads)}, kMsDomain);
    };
    auto q = rotary(at + "/rotary_q", qkv[0], H);
    auto k = rotary(at + "/rotary_k", qkv[1], KV);
    const std::string past_k = dg.with_past ? dg.past_key.at(static_cast<std::size_t>(l)) : std::string();
    const std::string past_v = dg.with_past ? dg.past_value.at(static_cast<std::size_t>(l)) : std::string();
    auto gqa = g.node_n(
        at, "GroupQueryAttention", {q, k, qkv[2], past_k, past_v, seqlens_k, total_i32, "", "", "", attention_bias}, 3,
        {attr("num_heads", H), attr("kv_num_heads", KV), attr("scale", 1.0f / std::sqrt(static_cast<float>(D)))},
        kMsDomain);
    if (dg.presents) {
      const Dim B = std::string("batch_size"), T = std::string("past_sequence_length + 1");
      const std::vector<Dim> dims{B, KV, T, D};
      const std::string pr = "present." + std::to_string(l);
      dg.presents_out.push_back({pr + ".key", gqa[1], dims});
      dg.presents_out.push_back({pr + ".value", gqa[2], dims});
    }
    auto o = linear(ctx, at + "/o_proj", gqa[0], p + ".self_attn.o_proj", H * D, E);
    auto [m, h1] = skip_norm(sc + "/post_attention_layernorm", o, h, p + ".post_attention_layernorm");
    h = h1;
    const std::string mp = sc + "/mlp";
    auto w_gu = ctx.weight_t_concat(
        ctx.w.resolve(p + ".mlp.gate_proj.weight") + "+up_proj",
        {&ctx.w.get(p + ".mlp.gate_proj.weight", {I, E}), &ctx.w.get(p + ".mlp.up_proj.weight", {I, E})});
    auto gu = g.node_n(mp + "/gate_up_proj", "Split",
                       {g.node(mp + "/gate_up_proj", "MatMul", {m, w_gu}), g.const_i64({I, I})}, 2, {attr("axis", -1)});
    auto down = linear(ctx, mp + "/down_proj", g.node(mp, "Mul", {activation(ctx, mp + "/act_fn", gu[0], act), gu[1]}),
                       p + ".mlp.down_proj", I, E);
    const bool final_layer = l + 1 == L;
    auto [next, h2] = skip_norm(
        final_layer ? std::string("/model/norm") : "/model/layers." + std::to_string(l + 1) + "/input_layernorm", down,
        h, final_layer ? std::string("norm") : "layers." + std::to_string(l + 1) + ".input_layernorm");
    a = next;
    h = h2;
    report_layer(ctx, l + 1, L);
  }

  const Tensor* head = ctx.w.find_head("lm_head.weight");
  std::string logits;
  if (head != nullptr && head->raw_data() == embed.raw_data())
    logits = tied_lm_head(ctx, a, ctx.w.resolve("embed_tokens.weight"), embed, embed_init);
  else
    logits = linear(ctx, "/lm_head", a, "lm_head", E, V, true);
  return decoder_outputs(dg, logits);
}

class Llama : public DecoderArchitecture {
 public:
  Llama() : DecoderArchitecture("llama", "model", {"LlamaForCausalLM", "LlamaModel"}) {}

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    if (task != "text-generation" && task != "text-generation-with-past") unsupported_task(task);
    auto& g = ctx.g;
    const auto& c = ctx.config;
    const std::int64_t E = positive_config_int(c, {"hidden_size"});
    const std::int64_t H = positive_config_int(c, {"num_attention_heads"});
    const std::int64_t KV = positive_config_int(c, {"num_key_value_heads"}, H);
    const std::int64_t L = positive_config_int(c, {"num_hidden_layers"});
    const std::int64_t I = positive_config_int(c, {"intermediate_size"});
    const std::int64_t V = positive_config_int(c, {"vocab_size"});
    const std::int64_t NP = positive_config_int(c, {"max_position_embeddings"}, 2048);
    if (E % H != 0)
      throw InvalidArgument(c.source() + ": hidden_size " + std::to_string(E) +
                            " is not a multiple of num_attention_heads " + std::to_string(H));
    if (H % KV != 0)
      throw InvalidArgument(c.source() + ": num_attention_heads " + std::to_string(H) +
                            " is not a multiple of num_key_value_heads " + std::to_string(KV));
    const std::int64_t D = E / H;
    if (D % 2 != 0)
      throw InvalidArgument(c.source() + ": the head size hidden_size / num_attention_heads = " + std::to_string(D) +
                            " must be even for rotary embeddings");
    const auto eps = static_cast<float>(c.get<double>("rms_norm_eps", 1e-6));
    const std::string act = c.get<std::string>("hidden_act", "silu");
    const auto theta = static_cast<float>(c.get<double>("rope_theta", 10000.0));
    if (!(theta > 0)) throw InvalidArgument(c.source() + ": rope_theta must be > 0");
    const float factor = linear_rope_factor(c);

    DecoderGraph dg = decoder_inputs(ctx, {L, H, KV, D, V}, DecoderInputOrder::PastLast);
    if (ctx.decoder.fused) return build_fused(ctx, dg, {E, H, KV, L, I, V, NP, D}, eps, act, theta, factor);
    const Tensor& embed = ctx.w.get("embed_tokens.weight", {V, E});
    const std::string embed_init = ctx.weight(ctx.w.resolve("embed_tokens.weight"), embed);
    auto h = g.node("/model/embed_tokens", "Gather", {embed_init, dg.input_ids});

    // cos/sin [batch or 1, 1, new, D] for the positions, from tables computed as LlamaRotaryEmbedding does (float32).
    const std::string rope_key = "rope:" + std::to_string(NP) + ":" + std::to_string(D) + ":" + std::to_string(theta) +
                                 ":" + std::to_string(factor);
    auto table = [&](bool sine) {
      return g.add_float_initializer(
          rope_key + (sine ? ":sin" : ":cos"), sine ? "rotary_sin" : "rotary_cos", {NP, D},
          [NP, D, theta, factor, sine](float* dst) {
            const std::int64_t half = D / 2;
            for (std::int64_t p = 0; p < NP; ++p) {
              const float t = static_cast<float>(p) / factor;
              for (std::int64_t i = 0; i < half; ++i) {
                const float inv = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(D));
                const float f = t * inv;
                const auto v =
                    static_cast<float>(sine ? std::sin(static_cast<double>(f)) : std::cos(static_cast<double>(f)));
                dst[p * D + i] = v;
                dst[p * D + half + i] = v;
              }
            }
          });
    };
    const std::string rs = "/model/rotary_emb";
    auto cos = g.node(rs, "Unsqueeze", {g.node(rs, "Gather", {table(false), dg.position_ids}), g.const_i64({1})});
    auto sin = g.node(rs, "Unsqueeze", {g.node(rs, "Gather", {table(true), dg.position_ids}), g.const_i64({1})});
    auto rope = [&](const std::string& scope, const std::string& x) {
      // x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x[..., D/2:], x[..., :D/2])
      auto halves = g.node_n(scope, "Split", {x, g.const_i64({D / 2, D / 2})}, 2, {attr("axis", -1)});
      auto rot = g.node(scope, "Concat", {g.node(scope, "Neg", {halves[1]}), halves[0]}, {attr("axis", -1)});
      return g.node(scope, "Add", {g.node(scope, "Mul", {x, cos}), g.node(scope, "Mul", {rot, sin})});
    };

    for (std::int64_t l = 0; l < L; ++l) {
      const std::string p = "layers." + std::to_string(l), s = "/model/layers." + std::to_string(l);
      auto a = rms_norm(ctx, s + "/input_layernorm", h, p + ".input_layernorm", E, eps);
      const std::string at = s + "/self_attn";
      auto q = linear(ctx, at + "/q_proj", a, p + ".self_attn.q_proj", E, H * D);
      auto k = linear(ctx, at + "/k_proj", a, p + ".self_attn.k_proj", E, KV * D);
      auto v = linear(ctx, at + "/v_proj", a, p + ".self_attn.v_proj", E, KV * D);
      auto q4 = rope(at + "/rotary_q", split_heads(ctx, at + "/query", q, H, D));
      auto k4 = rope(at + "/rotary_k", split_heads(ctx, at + "/key", k, KV, D));
      auto v4 = split_heads(ctx, at + "/value", v, KV, D);
      auto [kk, vv] = decoder_cache(ctx, dg, l, at, k4, v4);
      auto att = decoder_attention(ctx, dg, at, q4, kk, vv, std::sqrt(static_cast<float>(D)), DecoderMasking::Llama);
      auto o = linear(ctx, at + "/o_proj", att, p + ".self_attn.o_proj", H * D, E);
      h = g.node(s, "Add", {h, o});
      auto m = rms_norm(ctx, s + "/post_attention_layernorm", h, p + ".post_attention_layernorm", E, eps);
      auto gate =
          activation(ctx, s + "/mlp/act_fn", linear(ctx, s + "/mlp/gate_proj", m, p + ".mlp.gate_proj", E, I), act);
      auto up = linear(ctx, s + "/mlp/up_proj", m, p + ".mlp.up_proj", E, I);
      auto down = linear(ctx, s + "/mlp/down_proj", g.node(s + "/mlp", "Mul", {gate, up}), p + ".mlp.down_proj", I, E);
      h = g.node(s, "Add", {h, down});
      report_layer(ctx, l + 1, L);
    }
    h = rms_norm(ctx, "/model/norm", h, "norm", E, eps);

    // lm_head.weight, or the embeddings when tied (tie_word_embeddings: the loader restores the alias).
    const Tensor* head = ctx.w.find_head("lm_head.weight");
    std::string logits;
    if (head != nullptr && head->raw_data() == embed.raw_data())
      logits = tied_lm_head(ctx, h, ctx.w.resolve("embed_tokens.weight"), embed, embed_init);
    else
      logits = linear(ctx, "/lm_head", h, "lm_head", E, V, true);
    return decoder_outputs(dg, logits);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_llama_architecture() {
  return std::make_unique<Llama>();
}

}  // namespace ortformers::exporters
