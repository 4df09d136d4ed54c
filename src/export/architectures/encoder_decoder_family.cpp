#include "export/architectures/encoder_decoder_family.hpp"

#include <cmath>
#include <limits>

#include "export/architectures/decoder_family.hpp"
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

std::string EncoderDecoderArchitecture::task_for_class(const std::string& class_name) const {
  for (const auto& c : classes_)
    if (c == class_name) return task_ + "-with-past";
  if (ends_with(class_name, "ForConditionalGeneration")) return task_ + "-with-past";
  return "";
}

std::vector<GraphOutput> EncoderDecoderArchitecture::build_graph(BuildContext& ctx, const std::string& task) const {
  if (task != task_ && task != task_ + "-with-past")
    throw UnsupportedError("task '" + task + "' is not supported for model_type '" + model_types_.front() +
                           "' (supported: " + task_ + ", " + task_ + "-with-past)");
  if (ctx.decoder.encoder) return build_encoder_graph(ctx);
  return build_decoder_graph(ctx);
}

config::PretrainedConfig nested_config(const config::PretrainedConfig& c, const std::string& key) {
  if (!c.json().contains(key) || !c.json().at(key).is_object())
    throw InvalidArgument(c.source() + ": \"" + key + "\" must be an object (the " + key + " part of the config)");
  return config::PretrainedConfig::from_json(c.json().at(key), c.source() + " (" + key + ")");
}

BartStyleDims bart_style_dims(const config::PretrainedConfig& c) {
  BartStyleDims d;
  d.d_model = positive_config_int(c, {"d_model"});
  d.vocab = positive_config_int(c, {"vocab_size"});
  d.encoder_layers = positive_config_int(c, {"encoder_layers"});
  d.decoder_layers = positive_config_int(c, {"decoder_layers"});
  d.encoder_heads = positive_config_int(c, {"encoder_attention_heads"});
  d.decoder_heads = positive_config_int(c, {"decoder_attention_heads"});
  d.encoder_ffn = positive_config_int(c, {"encoder_ffn_dim"});
  d.decoder_ffn = positive_config_int(c, {"decoder_ffn_dim"});
  for (std::int64_t h : {d.encoder_heads, d.decoder_heads})
    if (d.d_model % h != 0)
      throw InvalidArgument(c.source() + ": d_model " + std::to_string(d.d_model) +
                            " is not a multiple of the attention heads " + std::to_string(h));
  d.act = c.get<std::string>("activation_function", "gelu");
  return d;
}

EncoderInputs text_encoder_inputs(BuildContext& ctx) {
  const Dim B = std::string("batch_size"), S = std::string("encoder_sequence_length");
  ctx.g.add_input("input_ids", kInt64, {B, S});
  ctx.g.add_input("attention_mask", kInt64, {B, S});
  ctx.input_ids = "input_ids";
  ctx.attention_mask = "attention_mask";
  return {"input_ids", "attention_mask", ""};
}

std::vector<GraphOutput> encoder_outputs(const std::string& hidden, std::int64_t hidden_size, const Dim& seq_dim) {
  return {{"last_hidden_state", hidden, {std::string("batch_size"), seq_dim, hidden_size}}};
}

std::string dim_scalar(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t axis) {
  auto shape = ctx.g.node(scope, "Shape", {x});
  return ctx.g.node(scope, "Gather", {shape, ctx.g.scalar_i64(axis)}, {attr("axis", 0)});
}

std::string additive_padding_mask(BuildContext& ctx, const std::string& scope, const std::string& mask) {
  auto& g = ctx.g;
  auto pad = g.node(scope, "Equal", {mask, g.scalar_i64(0)});
  pad = g.node(scope, "Unsqueeze", {pad, g.const_i64({1, 2})});
  return g.node(scope, "Where", {pad, g.scalar_f32(kMin), g.scalar_f32(0.0f)});
}

Seq2SeqDecoderGraph seq2seq_decoder_inputs(BuildContext& ctx, const Seq2SeqDecoderDims& dims,
                                           const Seq2SeqDecoderOptions& options) {
  auto& g = ctx.g;
  Seq2SeqDecoderGraph dg;
  dg.dims = dims;
  dg.with_past = ctx.decoder.past_inputs;
  dg.presents = ctx.decoder.present_outputs;
  dg.presents_by_layer.assign(static_cast<std::size_t>(dims.layers), std::vector<GraphOutput>(4));
  const Dim B = std::string("batch_size");
  const Dim E = options.encoder_sequence;
  if (options.encoder_attention_mask) {
    g.add_input("encoder_attention_mask", kInt64, {B, E});
    dg.encoder_attention_mask = "encoder_attention_mask";
  }
  g.add_input("input_ids", kInt64,
              {B, dg.with_past ? Dim(std::int64_t{1}) : Dim(std::string("decoder_sequence_length"))});
  dg.input_ids = ctx.input_ids = "input_ids";
  if (options.decoder_attention_mask) {
    // optimum names the whole mask's length "past_sequence_length + 1" in every decoder file.
    g.add_input("decoder_attention_mask", kInt64, {B, std::string("past_sequence_length + 1")});
    dg.decoder_attention_mask = "decoder_attention_mask";
  }
  if (!dg.with_past || options.encoder_states_with_past) {
    g.add_input("encoder_hidden_states", kFloat, {B, E, dims.encoder_hidden});
    dg.encoder_hidden_states = "encoder_hidden_states";
  }
  if (dg.with_past) {
    const Dim P = std::string("past_decoder_sequence_length"), EO = std::string("encoder_sequence_length_out");
    for (std::int64_t l = 0; l < dims.layers; ++l) {
      const std::string p = "past_key_values." + std::to_string(l);
      for (const char* part : {"decoder", "encoder"})
        for (const char* kv : {"key", "value"}) {
          const std::string name = p + "." + part + "." + kv;
          g.add_input(name, kFloat, {B, dims.heads, std::string(part) == "decoder" ? P : EO, dims.head_dim});
        }
      dg.past_self_key.push_back(p + ".decoder.key");
      dg.past_self_value.push_back(p + ".decoder.value");
      dg.past_cross_key.push_back(p + ".encoder.key");
      dg.past_cross_value.push_back(p + ".encoder.value");
    }
  }

  const std::string s = "/decoder_inputs";
  dg.new_length = dim_scalar(ctx, s + "/new_length", dg.input_ids, 1);
  dg.past_length = dg.with_past ? dim_scalar(ctx, s + "/past_length", dg.past_self_key.front(), 2) : g.scalar_i64(0);
  dg.total_length = g.node(s + "/total_length", "Add", {dg.past_length, dg.new_length});
  auto rows = g.node(s + "/causal", "Range", {dg.past_length, dg.total_length, g.scalar_i64(1)});
  rows = g.node(s + "/causal", "Unsqueeze", {rows, g.const_i64({1})});
  auto cols = g.node(s + "/causal", "Range", {g.scalar_i64(0), dg.total_length, g.scalar_i64(1)});
  cols = g.node(s + "/causal", "Unsqueeze", {cols, g.const_i64({0})});
  dg.causal_disallowed = g.node(s + "/causal", "Greater", {cols, rows});
  dg.causal_additive = g.node(s + "/causal", "Where", {dg.causal_disallowed, g.scalar_f32(kMin), g.scalar_f32(0.0f)});
  if (!dg.encoder_attention_mask.empty())
    dg.encoder_additive = additive_padding_mask(ctx, s + "/encoder_mask", dg.encoder_attention_mask);
  return dg;
}

std::pair<std::string, std::string> seq2seq_self_cache(BuildContext& ctx, Seq2SeqDecoderGraph& dg, std::int64_t layer,
                                                       const std::string& scope, const std::string& key,
                                                       const std::string& value) {
  auto& g = ctx.g;
  std::string k = key, v = value;
  if (dg.with_past) {
    k = g.node(scope + "/present_key", "Concat", {dg.past_self_key.at(layer), key}, {attr("axis", 2)});
    v = g.node(scope + "/present_value", "Concat", {dg.past_self_value.at(layer), value}, {attr("axis", 2)});
  }
  if (dg.presents) {
    const std::vector<Dim> dims{std::string("batch_size"), dg.dims.heads,
                                std::string("past_decoder_sequence_length + 1"), dg.dims.head_dim};
    const std::string p = "present." + std::to_string(layer) + ".decoder";
    auto& slot = dg.presents_by_layer.at(static_cast<std::size_t>(layer));
    slot[0] = {p + ".key", k, dims};
    slot[1] = {p + ".value", v, dims};
  }
  return {k, v};
}

std::pair<std::string, std::string> seq2seq_cross_cache(
    BuildContext& ctx, Seq2SeqDecoderGraph& dg, std::int64_t layer,
    const std::function<std::pair<std::string, std::string>()>& project) {
  (void)ctx;
  if (dg.with_past) return {dg.past_cross_key.at(layer), dg.past_cross_value.at(layer)};
  auto kv = project();
  if (dg.presents) {
    const std::vector<Dim> dims{std::string("batch_size"), dg.dims.heads, std::string("encoder_sequence_length_out"),
                                dg.dims.head_dim};
    const std::string p = "present." + std::to_string(layer) + ".encoder";
    auto& slot = dg.presents_by_layer.at(static_cast<std::size_t>(layer));
    slot[2] = {p + ".key", kv.first, dims};
    slot[3] = {p + ".value", kv.second, dims};
  }
  return kv;
}

std::vector<GraphOutput> seq2seq_decoder_outputs(const Seq2SeqDecoderGraph& dg, const std::string& logits) {
  const Dim S = dg.with_past ? Dim(std::string("1")) : Dim(std::string("decoder_sequence_length"));
  std::vector<GraphOutput> out{{"logits", logits, {std::string("batch_size"), S, dg.dims.vocab}}};
  if (!dg.presents) return out;
  for (std::size_t l = 0; l < dg.presents_by_layer.size(); ++l) {
    const auto& slot = dg.presents_by_layer[l];
    const std::size_t n = dg.with_past ? 2 : 4;
    for (std::size_t i = 0; i < n; ++i) {
      if (slot[i].name.empty())
        throw RuntimeError("internal: decoder layer " + std::to_string(l) +
                           " registered no self- or cross-attention cache");
      out.push_back(slot[i]);
    }
  }
  return out;
}

std::string attention_core(BuildContext& ctx, const std::string& scope, const std::string& q, const std::string& k,
                           const std::string& v, const std::string& bias, std::int64_t heads, std::int64_t head_dim) {
  auto& g = ctx.g;
  auto kt = g.node(scope, "Transpose", {k}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
  auto scores = g.node(scope, "MatMul", {q, kt});
  if (!bias.empty()) scores = g.node(scope, "Add", {scores, bias});
  auto probs = g.node(scope, "Softmax", {scores}, {attr("axis", -1)});
  auto c = g.node(scope, "MatMul", {probs, v});
  auto t = g.node(scope, "Transpose", {c}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({0, 0, heads * head_dim})});
}

std::string projection_heads(BuildContext& ctx, const std::string& scope, const std::string& x,
                             const std::string& prefix, std::int64_t in, std::int64_t heads, std::int64_t head_dim,
                             float scale) {
  auto y = linear(ctx, scope, x, prefix, in, heads * head_dim);
  if (scale != 1.0f) y = ctx.g.node(scope, "Mul", {y, ctx.g.scalar_f32(scale)});
  auto r = ctx.g.node(scope, "Reshape", {y, ctx.g.const_i64({0, 0, heads, head_dim})});
  return ctx.g.node(scope, "Transpose", {r}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
}

std::string t5_layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
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

std::vector<std::int64_t> relative_position_buckets(const RelativeBiasLayout& layout) {
  const std::int64_t md = layout.max_distance;
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(2 * md + 1));
  for (std::int64_t rel = -md; rel <= md; ++rel) {
    std::int64_t nb = layout.num_buckets, bucket = 0, r = rel;
    if (layout.bidirectional) {
      nb /= 2;
      if (r > 0) bucket += nb;
      r = r < 0 ? -r : r;
    } else {
      r = r < 0 ? -r : 0;
    }
    const std::int64_t max_exact = nb / 2;
    if (r < max_exact) {
      bucket += r;
    } else {
      // max_exact + (log(r / max_exact) / log(max_distance / max_exact) * (nb - max_exact)).long(), in float32
      const float denom = static_cast<float>(std::log(static_cast<double>(md) / static_cast<double>(max_exact)));
      const float v =
          std::log(static_cast<float>(r) / static_cast<float>(max_exact)) / denom * static_cast<float>(nb - max_exact);
      bucket += std::min<std::int64_t>(max_exact + static_cast<std::int64_t>(v), nb - 1);
    }
    out.push_back(bucket);
  }
  return out;
}

std::string relative_position_bias(BuildContext& ctx, const std::string& scope, const std::string& weight_name,
                                   const std::string& q_begin, const std::string& q_end, const std::string& k_end,
                                   const RelativeBiasLayout& layout) {
  auto& g = ctx.g;
  if (layout.num_buckets < 2 || layout.max_distance < 1)
    throw InvalidArgument(ctx.config.source() + ": relative_attention_num_buckets " +
                          std::to_string(layout.num_buckets) + " / relative_attention_max_distance " +
                          std::to_string(layout.max_distance) + " must be >= 2 / >= 1");
  const Tensor& w = ctx.w.get(weight_name, {layout.num_buckets, layout.heads});
  const std::string table = ctx.weight(ctx.w.resolve(weight_name), w);
  const auto buckets = relative_position_buckets(layout);
  const std::string bucket_table = g.const_i64(buckets, {static_cast<std::int64_t>(buckets.size())});
  auto rows = g.node(scope, "Range", {q_begin, q_end, g.scalar_i64(1)});
  rows = g.node(scope, "Unsqueeze", {rows, g.const_i64({1})});
  auto cols = g.node(scope, "Range", {g.scalar_i64(0), k_end, g.scalar_i64(1)});
  cols = g.node(scope, "Unsqueeze", {cols, g.const_i64({0})});
  auto rel = g.node(scope, "Sub", {cols, rows});  // memory_position - context_position
  rel = g.node(scope, "Max",
               {g.node(scope, "Min", {rel, g.scalar_i64(layout.max_distance)}), g.scalar_i64(-layout.max_distance)});
  auto index = g.node(scope, "Add", {rel, g.scalar_i64(layout.max_distance)});
  auto bucket = g.node(scope, "Gather", {bucket_table, index}, {attr("axis", 0)});
  auto values = g.node(scope, "Gather", {table, bucket}, {attr("axis", 0)});  // [q, k, heads]
  values = g.node(scope, "Transpose", {values}, {attr("perm", std::vector<std::int64_t>{2, 0, 1})});
  return g.node(scope, "Unsqueeze", {values, g.const_i64({0})});
}

}  // namespace ortformers::exporters
