#include "export/architectures/decoder_family.hpp"

#include <limits>

#include "export/graph/layers.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr float kMin = std::numeric_limits<float>::lowest();  // torch.finfo(torch.float32).min

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string DecoderArchitecture::task_for_class(const std::string& class_name) const {
  for (const auto& c : classes_)
    if (c == class_name) return "text-generation-with-past";
  if (ends_with(class_name, "ForCausalLM") || ends_with(class_name, "LMHeadModel")) return "text-generation-with-past";
  return "";
}

void DecoderArchitecture::unsupported_task(const std::string& task) const {
  throw UnsupportedError("task '" + task + "' is not supported for model_type '" + model_type_ +
                         "' (supported: text-generation, text-generation-with-past)");
}

std::int64_t positive_config_int(const config::PretrainedConfig& c, std::initializer_list<const char*> keys,
                                 std::int64_t fallback) {
  for (const char* k : keys) {
    if (!c.has(k)) continue;
    const Json& j = c.json().at(k);
    if (!j.is_number_integer() || j.get<std::int64_t>() <= 0)
      throw InvalidArgument(c.source() + ": " + k + " must be a positive integer, got " + j.dump());
    return j.get<std::int64_t>();
  }
  if (fallback > 0) return fallback;
  std::string names;
  for (const char* k : keys) names += (names.empty() ? "" : " / ") + std::string(k);
  throw InvalidArgument(c.source() + ": " + names + " is missing");
}

void add_past_inputs(BuildContext& ctx, DecoderGraph& dg) {
  if (!dg.with_past) return;
  const Dim B = std::string("batch_size"), P = std::string("past_sequence_length");
  for (std::int64_t l = 0; l < dg.dims.layers; ++l) {
    const std::string p = "past_key_values." + std::to_string(l);
    ctx.g.add_input(p + ".key", kFloat, {B, dg.dims.kv_heads, P, dg.dims.head_dim});
    ctx.g.add_input(p + ".value", kFloat, {B, dg.dims.kv_heads, P, dg.dims.head_dim});
    dg.past_key.push_back(p + ".key");
    dg.past_value.push_back(p + ".value");
  }
}

void decoder_derived_values(BuildContext& ctx, DecoderGraph& dg) {
  auto& g = ctx.g;
  ctx.input_ids = dg.input_ids;
  ctx.attention_mask = dg.attention_mask;
  const std::string s = "/decoder_inputs";
  const std::string seq = ctx.seq_len_scalar();
  if (dg.with_past) {
    auto shape = g.node(s + "/past_length", "Shape", {dg.past_key.front()});
    dg.past_length = g.node(s + "/past_length", "Gather", {shape, g.scalar_i64(2)}, {attr("axis", 0)});
  } else {
    dg.past_length = g.scalar_i64(0);
  }
  auto total = g.node(s + "/total_length", "Add", {dg.past_length, seq});
  if (dg.position_ids.empty()) {
    // transformers without position_ids: arange(past_length, past_length + new).unsqueeze(0)
    auto r = g.node(s + "/position_ids", "Range", {dg.past_length, total, g.scalar_i64(1)});
    dg.position_ids = g.node(s + "/position_ids", "Unsqueeze", {r, g.const_i64({0})});
  }
  // Query i (absolute position past_length + i) must not see key j > past_length + i.
  auto rows = g.node(s + "/causal", "Range", {dg.past_length, total, g.scalar_i64(1)});
  rows = g.node(s + "/causal", "Unsqueeze", {rows, g.const_i64({1})});
  auto cols = g.node(s + "/causal", "Range", {g.scalar_i64(0), total, g.scalar_i64(1)});
  cols = g.node(s + "/causal", "Unsqueeze", {cols, g.const_i64({0})});
  dg.causal_disallowed = g.node(s + "/causal", "Greater", {cols, rows});
  if (!dg.attention_mask.empty()) {
    auto pad = g.node(s + "/padding", "Equal", {dg.attention_mask, g.scalar_i64(0)});
    dg.padding_masked = g.node(s + "/padding", "Unsqueeze", {pad, g.const_i64({1, 2})});
  }
}

DecoderGraph decoder_inputs(BuildContext& ctx, const DecoderDims& dims, DecoderInputOrder order) {
  auto& g = ctx.g;
  DecoderGraph dg;
  dg.dims = dims;
  dg.with_past = ctx.decoder.past_inputs;
  dg.presents = ctx.decoder.present_outputs;
  const Dim B = std::string("batch_size"), S = std::string("sequence_length");
  // optimum names the whole mask's length "past_sequence_length + 1" (its dummy inputs have one new token).
  const Dim T = dg.with_past ? Dim(std::string("past_sequence_length + 1")) : S;
  g.add_input("input_ids", kInt64, {B, S});
  if (order == DecoderInputOrder::PastAfterInputIds) add_past_inputs(ctx, dg);
  g.add_input("attention_mask", kInt64, {B, T});
  if (ctx.decoder.position_ids) g.add_input("position_ids", kInt64, {B, S});
  if (order == DecoderInputOrder::PastLast) add_past_inputs(ctx, dg);
  dg.input_ids = "input_ids";
  dg.attention_mask = "attention_mask";
  if (ctx.decoder.position_ids) dg.position_ids = "position_ids";
  decoder_derived_values(ctx, dg);
  return dg;
}

std::pair<std::string, std::string> decoder_cache(BuildContext& ctx, DecoderGraph& dg, std::int64_t layer,
                                                  const std::string& scope, const std::string& key,
                                                  const std::string& value) {
  auto& g = ctx.g;
  std::string k = key, v = value;
  if (dg.with_past) {
    k = g.node(scope + "/present_key", "Concat", {dg.past_key.at(layer), key}, {attr("axis", 2)});
    v = g.node(scope + "/present_value", "Concat", {dg.past_value.at(layer), value}, {attr("axis", 2)});
  }
  if (dg.presents) {
    const Dim B = std::string("batch_size"), T = std::string("past_sequence_length + 1");
    const std::vector<Dim> dims{B, dg.dims.kv_heads, T, dg.dims.head_dim};
    const std::string p = "present." + std::to_string(layer);
    dg.presents_out.push_back({p + ".key", k, dims});
    dg.presents_out.push_back({p + ".value", v, dims});
  }
  return {k, v};
}

std::string split_heads(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t heads,
                        std::int64_t head_dim) {
  auto& g = ctx.g;
  auto r = g.node(scope, "Reshape", {x, g.const_i64({0, 0, heads, head_dim})});
  return g.node(scope, "Transpose", {r}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
}

std::string decoder_attention(BuildContext& ctx, const DecoderGraph& dg, const std::string& scope, const std::string& q,
                              const std::string& k, const std::string& v, float divisor, DecoderMasking masking) {
  auto& g = ctx.g;
  const auto& d = dg.dims;
  const std::int64_t n_rep = d.heads / d.kv_heads;
  const bool grouped = n_rep > 1;
  std::string qq = q, kk = k, vv = v;
  if (grouped) {
    // [batch, heads, new, D] -> [batch, kv_heads, n_rep, new, D]; key/value [batch, kv_heads, 1, total, D] broadcast
    // over the n_rep query heads of their group (no copy, unlike repeat_kv).
    qq = g.node(scope + "/group", "Reshape", {q, g.const_i64({0, d.kv_heads, n_rep, -1, d.head_dim})});
    kk = g.node(scope + "/group", "Unsqueeze", {k, g.const_i64({2})});
    vv = g.node(scope + "/group", "Unsqueeze", {v, g.const_i64({2})});
  }
  auto kt = g.node(
      scope, "Transpose", {kk},
      {attr("perm", grouped ? std::vector<std::int64_t>{0, 1, 2, 4, 3} : std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(scope, "MatMul", {qq, kt});
  if (divisor != 1.0f) scores = g.node(scope, "Div", {scores, g.scalar_f32(divisor)});
  // Padding [batch, 1, 1, total] (one more axis for the groups).
  std::string pad = dg.padding_masked;
  if (grouped && !pad.empty()) pad = g.node(scope + "/group", "Unsqueeze", {pad, g.const_i64({1})});
  const std::string zero = g.scalar_f32(0.0f), min = g.scalar_f32(kMin);
  if (masking == DecoderMasking::Gpt2) {
    scores = g.node(scope, "Where", {dg.causal_disallowed, min, scores});
    if (!pad.empty()) scores = g.node(scope, "Add", {scores, g.node(scope, "Where", {pad, min, zero})});
  } else {
    if (pad.empty()) throw RuntimeError("internal: Llama masking without an attention_mask");
    auto causal = g.node(scope, "Where", {dg.causal_disallowed, min, zero});
    auto padding = g.node(scope, "Where", {pad, min, zero});
    scores = g.node(scope, "Add", {scores, g.node(scope, "Add", {padding, causal})});
  }
  auto probs = g.node(scope, "Softmax", {scores}, {attr("axis", -1)});
  auto c = g.node(scope, "MatMul", {probs, vv});
  if (grouped) c = g.node(scope + "/group", "Reshape", {c, g.const_i64({0, d.heads, -1, d.head_dim})});
  auto t = g.node(scope, "Transpose", {c}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({0, 0, d.heads * d.head_dim})});
}

std::string tied_lm_head(BuildContext& ctx, const std::string& x, const std::string& name, const Tensor& embedding,
                         const std::string& embedding_init) {
  if (ctx.quantize) return ctx.g.node("/lm_head", "MatMul", {x, ctx.weight_t(name, embedding)});
  return tied_decoder(ctx, "/lm_head", x, embedding_init, "");
}

std::vector<GraphOutput> decoder_outputs(const DecoderGraph& dg, const std::string& logits) {
  std::vector<GraphOutput> out{
      {"logits", logits, {std::string("batch_size"), std::string("sequence_length"), dg.dims.vocab}}};
  if (dg.presents) out.insert(out.end(), dg.presents_out.begin(), dg.presents_out.end());
  return out;
}

}  // namespace ortformers::exporters
