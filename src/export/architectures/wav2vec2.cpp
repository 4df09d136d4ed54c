// Wav2Vec2 and HuBERT (transformers' modeling_wav2vec2.py / modeling_hubert.py): a convolutional feature encoder
// on the raw waveform (feat_extract_norm "group": GroupNorm with one group per channel on the first layer only;
// "layer": LayerNorm over the channels on every layer), the feature projection (LayerNorm + Linear; HuBERT's
// LayerNorm only with feat_proj_layer_norm), the positional convolution (grouped Conv1d with weight norm, the last
// frame dropped for an even kernel, activation) and the transformer encoder: post-LN layers after a LayerNorm
// (do_stable_layer_norm false) or pre-LN layers and a final LayerNorm (true).
// Heads: CTC (lm_head), sequence classification (projector, mean over frames, classifier), frame classification,
// x-vector (projector, TDNN layers, mean + unbiased std pooling, feature_extractor, classifier).
// The graph has one input, input_values [batch_size, sequence_length], as optimum's exports: no attention mask,
// every frame is attended to and pooled.
#include <algorithm>
#include <cmath>

#include "export/architectures/wav2vec2_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

Tensor as_float32(const Tensor& t, const std::string& name) {
  if (t.dtype() == DType::Float32) return t;
  if (t.dtype() != DType::Float16 && t.dtype() != DType::BFloat16 && t.dtype() != DType::Float64)
    throw UnsupportedError("checkpoint tensor '" + name + "' has dtype " + dtype_name(t.dtype()) +
                           "; a floating-point weight is expected");
  return t.to(DType::Float32);
}

const Tensor& checked_shape(const Tensor& t, const std::string& name, const Shape& expected) {
  if (t.shape() != expected)
    throw InvalidArgument("config/weights mismatch: tensor '" + name + "' has shape " + shape_to_string(t.shape()) +
                          " but config.json implies " + shape_to_string(expected));
  return t;
}

std::vector<std::int64_t> int_list(const config::PretrainedConfig& c, const std::string& key) {
  if (!c.has(key) || !c.json().at(key).is_array())
    throw InvalidArgument(c.source() + ": " + key + " must be a list of integers");
  return c.json().at(key).get<std::vector<std::int64_t>>();
}

}  // namespace

Wav2Vec2::Wav2Vec2(std::string model_type, std::string class_prefix, std::string base_prefix, bool hubert)
    : model_type_(std::move(model_type)),
      class_prefix_(std::move(class_prefix)),
      base_prefix_(std::move(base_prefix)),
      hubert_(hubert) {}

std::vector<std::string> Wav2Vec2::tasks() const {
  if (hubert_) return {"feature-extraction", "automatic-speech-recognition", "audio-classification"};
  return {"feature-extraction", "automatic-speech-recognition", "audio-classification", "audio-frame-classification",
          "audio-xvector"};
}
std::string Wav2Vec2::task_for_class(const std::string& class_name) const {
  const std::string& p = class_prefix_;
  if (class_name == p + "Model") return "feature-extraction";
  if (class_name == p + "ForCTC") return "automatic-speech-recognition";
  if (class_name == p + "ForSequenceClassification") return "audio-classification";
  if (!hubert_ && class_name == p + "ForAudioFrameClassification") return "audio-frame-classification";
  if (!hubert_ && class_name == p + "ForXVector") return "audio-xvector";
  return "";
}

std::vector<GraphOutput> Wav2Vec2::build_graph(BuildContext& ctx, const std::string& task) const {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  check_config(c);
  const auto H = c.require<std::int64_t>("hidden_size");
  const float eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-5));

  g.add_input("input_values", kFloat, {std::string("batch_size"), std::string("sequence_length")});
  std::vector<std::string> hidden_states;  // the encoder's hidden_states tuple (embedding output first)
  auto x = feature_encoder(ctx, g.node("/feature_extractor", "Unsqueeze", {"input_values", g.const_i64({1})}));
  x = feature_projection(ctx, x, H, eps);
  x = encoder(ctx, x, H, eps, hidden_states);

  const Dim B = std::string("batch_size"), S = std::string("sequence_length");
  if (task == "feature-extraction") return {{"last_hidden_state", x, {B, S, H}}};
  if (task == "automatic-speech-recognition") {
    const auto V = c.require<std::int64_t>("vocab_size");
    return {{"logits", linear(ctx, "/lm_head", x, "lm_head", H, V, true), {B, S, V}}};
  }
  const auto labels = c.num_labels();
  const auto h = weighted_layer_sum(ctx, x, hidden_states);
  if (task == "audio-classification") {
    const auto P = c.get<std::int64_t>("classifier_proj_size", 256);
    auto p = linear(ctx, "/projector", h, "projector", H, P, true);
    auto pooled =
        g.node("/pooling", "ReduceMean", {p}, {attr("axes", std::vector<std::int64_t>{1}), attr("keepdims", 0)});
    return {{"logits", linear(ctx, "/classifier", pooled, "classifier", P, labels, true), {B, labels}}};
  }
  if (task == "audio-frame-classification")
    return {{"logits", linear(ctx, "/classifier", h, "classifier", H, labels, true), {B, S, labels}}};
  if (task == "audio-xvector") return xvector_head(ctx, h, H);
  throw UnsupportedError("task '" + task + "' is not supported for model_type '" + model_type_ + "'");
}

void Wav2Vec2::check_config(const config::PretrainedConfig& c) const {
  const auto norm = c.get<std::string>("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer")
    throw UnsupportedError(c.source() + ": feat_extract_norm '" + norm +
                           "' is not supported by the exporter (group, layer)");
  if (c.get<bool>("add_adapter", false))
    throw UnsupportedError(c.source() + ": add_adapter true (the Wav2Vec2 adapter) is not supported by the exporter");
  if (c.has("adapter_attn_dim"))
    throw UnsupportedError(c.source() + ": adapter_attn_dim " + c.json().at("adapter_attn_dim").dump() +
                           " (attention adapters) is not supported by the exporter");
  if (c.get<bool>("conv_pos_batch_norm", false))
    throw UnsupportedError(c.source() + ": conv_pos_batch_norm true is not supported by the exporter");
}

// [batch, 1, samples] -> [batch, frames, conv_dim[-1]].
std::string Wav2Vec2::feature_encoder(BuildContext& ctx, std::string x) const {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  const auto dims = int_list(c, "conv_dim"), kernels = int_list(c, "conv_kernel"), strides = int_list(c, "conv_stride");
  if (dims.empty() || dims.size() != kernels.size() || dims.size() != strides.size())
    throw InvalidArgument(c.source() + ": conv_dim, conv_kernel and conv_stride must have the same length (" +
                          std::to_string(dims.size()) + ", " + std::to_string(kernels.size()) + ", " +
                          std::to_string(strides.size()) + ")");
  if (c.has("num_feat_extract_layers") &&
      c.require<std::int64_t>("num_feat_extract_layers") != static_cast<std::int64_t>(dims.size()))
    throw InvalidArgument(c.source() + ": num_feat_extract_layers " +
                          std::to_string(c.require<std::int64_t>("num_feat_extract_layers")) +
                          " differs from the length of conv_dim " + std::to_string(dims.size()));
  const bool group = c.get<std::string>("feat_extract_norm", "group") == "group";
  const bool bias = c.get<bool>("conv_bias", false);
  const auto act = c.get<std::string>("feat_extract_activation", "gelu");
  std::int64_t in = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const std::string p = "feature_extractor.conv_layers." + std::to_string(i);
    const std::string s = "/feature_extractor/conv_layers." + std::to_string(i);
    const auto out = dims[i];
    std::vector<std::string> ins{
        x, ctx.weight(ctx.w.resolve(p + ".conv.weight"), ctx.w.get(p + ".conv.weight", {out, in, kernels[i]}))};
    if (bias) ins.push_back(ctx.weight(ctx.w.resolve(p + ".conv.bias"), ctx.w.get(p + ".conv.bias", {out})));
    x = g.node(s + "/conv", "Conv", ins,
               {attr("kernel_shape", std::vector<std::int64_t>{kernels[i]}),
                attr("strides", std::vector<std::int64_t>{strides[i]})});
    if (group && i == 0) {
      // GroupNorm(num_groups = channels): each channel normalised over time = InstanceNormalization.
      auto scale = ctx.weight(ctx.w.resolve(p + ".layer_norm.weight"), ctx.w.get(p + ".layer_norm.weight", {out}));
      auto shift = ctx.weight(ctx.w.resolve(p + ".layer_norm.bias"), ctx.w.get(p + ".layer_norm.bias", {out}));
      x = g.node(s + "/layer_norm", "InstanceNormalization", {x, scale, shift}, {attr("epsilon", 1e-5f)});
    } else if (!group) {
      // nn.LayerNorm(out) with its default epsilon over the channels.
      x = g.node(s, "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
      x = layer_norm(ctx, s + "/layer_norm", x, p + ".layer_norm", out, 1e-5f);
      x = g.node(s, "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
    }
    x = activation(ctx, s + "/activation", x, act);
    in = out;
  }
  return g.node("/feature_extractor", "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
}

std::string Wav2Vec2::feature_projection(BuildContext& ctx, std::string x, std::int64_t H, float eps) const {
  const auto C = int_list(ctx.config, "conv_dim").back();
  const bool ln = !hubert_ || ctx.config.get<bool>("feat_proj_layer_norm", true);
  if (ln) x = layer_norm(ctx, "/feature_projection/layer_norm", x, "feature_projection.layer_norm", C, eps);
  return linear(ctx, "/feature_projection/projection", x, "feature_projection.projection", C, H);
}

// The effective weight of the positional convolution: weight norm over dim 2 (w = g * v / ||v|| with the norm over
// the output and input channels for each kernel position), or a plain weight.
std::string Wav2Vec2::positional_conv_weight(BuildContext& ctx, std::int64_t H, std::int64_t per_group,
                                             std::int64_t K) const {
  const std::string base = "encoder.pos_conv_embed.conv.";
  const Shape shape{H, per_group, K};
  std::string gn = base + "weight_g", vn = base + "weight_v";
  if (ctx.w.find(gn) == nullptr && ctx.w.find(vn) == nullptr) {
    gn = base + "parametrizations.weight.original0";
    vn = base + "parametrizations.weight.original1";
  }
  if (ctx.w.find(gn) == nullptr && ctx.w.find(vn) == nullptr && ctx.w.find(base + "weight") != nullptr)
    return ctx.weight(ctx.w.resolve(base + "weight"), ctx.w.get(base + "weight", shape));
  const Tensor& gt = ctx.w.get(gn, {1, 1, K});
  const Tensor& vt = ctx.w.get(vn, shape);
  const std::string gname = ctx.w.resolve(gn), vname = ctx.w.resolve(vn);
  const std::string key = "weight_norm:" + vname;
  if (ctx.g.has_initializer_key(key)) return ctx.g.initializer_for_key(key);
  return ctx.g.add_float_initializer(key, ctx.w.resolve(base + "weight"), shape,
                                     [gt, vt, gname, vname, H, per_group, K](float* dst) {
                                       const Tensor gf = as_float32(gt, gname), vf = as_float32(vt, vname);
                                       const float* gp = gf.data<float>();
                                       const float* v = vf.data<float>();
                                       const std::int64_t rows = H * per_group;
                                       for (std::int64_t k = 0; k < K; ++k) {
                                         double ss = 0;
                                         for (std::int64_t r = 0; r < rows; ++r)
                                           ss += static_cast<double>(v[r * K + k]) * v[r * K + k];
                                         const float norm = static_cast<float>(std::sqrt(ss));
                                         for (std::int64_t r = 0; r < rows; ++r)
                                           dst[r * K + k] = v[r * K + k] * (gp[k] / norm);
                                       }
                                     });
}

std::string Wav2Vec2::encoder(BuildContext& ctx, std::string x, std::int64_t H, float eps,
                              std::vector<std::string>& hidden_states) const {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  // Positional convolution on [batch, H, frames].
  const auto K = c.get<std::int64_t>("num_conv_pos_embeddings", 128);
  const auto G = c.get<std::int64_t>("num_conv_pos_embedding_groups", 16);
  if (K <= 0 || G <= 0 || H % G != 0)
    throw InvalidArgument(c.source() + ": hidden_size " + std::to_string(H) +
                          " is not a multiple of num_conv_pos_embedding_groups " + std::to_string(G));
  const std::string ps = "/encoder/pos_conv_embed";
  auto xt = g.node(ps, "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
  std::vector<std::string> ins{xt, positional_conv_weight(ctx, H, H / G, K)};
  if (const Tensor* b = ctx.w.find("encoder.pos_conv_embed.conv.bias"))
    ins.push_back(ctx.weight(ctx.w.resolve("encoder.pos_conv_embed.conv.bias"),
                             checked_shape(*b, "encoder.pos_conv_embed.conv.bias", {H})));
  auto p = g.node(ps + "/conv", "Conv", ins,
                  {attr("group", G), attr("kernel_shape", std::vector<std::int64_t>{K}),
                   attr("pads", std::vector<std::int64_t>{K / 2, K / 2})});
  if (K % 2 == 0)  // Wav2Vec2SamePadLayer: drop the last frame
    p = g.node(ps + "/padding", "Slice", {p, g.const_i64({0}), g.const_i64({-1}), g.const_i64({2})});
  p = activation(ctx, ps + "/activation", p, c.get<std::string>("feat_extract_activation", "gelu"));
  p = g.node(ps, "Transpose", {p}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
  x = g.node("/encoder", "Add", {x, p});

  const bool stable = c.get<bool>("do_stable_layer_norm", false);
  if (!stable) x = layer_norm(ctx, "/encoder/layer_norm", x, "encoder.layer_norm", H, eps);
  hidden_states.push_back(x);

  LayerDims d;
  d.hidden = H;
  d.heads = c.require<std::int64_t>("num_attention_heads");
  d.intermediate = c.require<std::int64_t>("intermediate_size");
  d.eps = eps;
  d.act = c.get<std::string>("hidden_act", "gelu");
  const auto L = c.require<std::int64_t>("num_hidden_layers");
  std::string layer_state;
  for (std::int64_t i = 0; i < L; ++i) {
    if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i) + "/" + std::to_string(L));
    const std::string pre = "encoder.layers." + std::to_string(i) + ".";
    const std::string scope = "/encoder/layers." + std::to_string(i);
    LayerNames n;
    n.query = pre + "attention.q_proj";
    n.key = pre + "attention.k_proj";
    n.value = pre + "attention.v_proj";
    n.attention_output = pre + "attention.out_proj";
    n.attention_layer_norm = pre + "layer_norm";
    n.intermediate = pre + "feed_forward.intermediate_dense";
    n.output = pre + "feed_forward.output_dense";
    n.output_layer_norm = pre + "final_layer_norm";
    x = encoder_layer(ctx, i, scope, x, n, d, stable, layer_state);
    if (i + 1 < L || !stable) hidden_states.push_back(x);
  }
  if (stable) {
    x = layer_norm(ctx, "/encoder/layer_norm", x, "encoder.layer_norm", H, eps);
    hidden_states.push_back(x);
  }
  return x;
}

// use_weighted_layer_sum: softmax(layer_weights)-weighted sum of the hidden states (embedding output included).
std::string Wav2Vec2::weighted_layer_sum(BuildContext& ctx, const std::string& last,
                                         const std::vector<std::string>& hidden_states) const {
  if (!ctx.config.get<bool>("use_weighted_layer_sum", false)) return last;
  auto& g = ctx.g;
  const auto n = static_cast<std::int64_t>(hidden_states.size());
  const Tensor w = as_float32(ctx.w.get_head("layer_weights", {n}), "layer_weights");
  const float* lw = w.data<float>();
  const float mx = *std::max_element(lw, lw + n);
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(lw[i] - mx));
  std::string acc;
  for (std::int64_t i = 0; i < n; ++i) {
    const float wi = static_cast<float>(std::exp(static_cast<double>(lw[i] - mx)) / sum);
    auto term = g.node("/weighted_layer_sum", "Mul", {hidden_states[static_cast<std::size_t>(i)], g.scalar_f32(wi)});
    acc = acc.empty() ? term : g.node("/weighted_layer_sum", "Add", {acc, term});
  }
  return acc;
}

std::vector<GraphOutput> Wav2Vec2::xvector_head(BuildContext& ctx, const std::string& h, std::int64_t H) const {
  const auto& c = ctx.config;
  auto& g = ctx.g;
  const auto dims = int_list(c, "tdnn_dim"), kernels = int_list(c, "tdnn_kernel"),
             dilations = int_list(c, "tdnn_dilation");
  if (dims.empty() || dims.size() != kernels.size() || dims.size() != dilations.size())
    throw InvalidArgument(c.source() + ": tdnn_dim, tdnn_kernel and tdnn_dilation must have the same length");
  const auto X = c.get<std::int64_t>("xvector_output_dim", 512);
  auto x = linear(ctx, "/projector", h, "projector", H, dims[0], true);
  // TDNN layers as dilated Conv1d on [batch, channels, frames]: kernel.weight [out, k * in] holds, for each
  // kernel position j, the [out, in] block at columns j * in ... (transformers' unfold / conv1d view).
  x = g.node("/tdnn", "Transpose", {x}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const std::int64_t in = i == 0 ? dims[0] : dims[i - 1], out = dims[i], k = kernels[i];
    const std::string p = "tdnn." + std::to_string(i) + ".kernel";
    const std::string s = "/tdnn." + std::to_string(i);
    const Tensor& wt = ctx.w.get_head(p + ".weight", {out, k * in});
    const std::string key = "tdnn_conv:" + p + ".weight";
    std::string wi;
    if (g.has_initializer_key(key)) {
      wi = g.initializer_for_key(key);
    } else {
      wi = g.add_float_initializer(key, p + ".weight.conv", {out, in, k}, [wt, p, in, out, k](float* dst) {
        const Tensor f = as_float32(wt, p + ".weight");
        const float* src = f.data<float>();
        for (std::int64_t o = 0; o < out; ++o)
          for (std::int64_t ci = 0; ci < in; ++ci)
            for (std::int64_t j = 0; j < k; ++j) dst[(o * in + ci) * k + j] = src[o * k * in + j * in + ci];
      });
    }
    std::vector<std::string> ins{x, wi};
    if (const Tensor* b = ctx.w.find_head(p + ".bias"))
      ins.push_back(ctx.weight(p + ".bias", checked_shape(*b, p + ".bias", {out})));
    x = g.node(s + "/kernel", "Conv", ins,
               {attr("kernel_shape", std::vector<std::int64_t>{k}),
                attr("dilations", std::vector<std::int64_t>{dilations[i]})});
    x = g.node(s + "/activation", "Relu", {x});
  }
  // Statistics pooling over frames: mean and torch.std (unbiased, divides by frames - 1).
  const std::string s = "/statistic_pooling";
  auto mean_k = g.node(s, "ReduceMean", {x}, {attr("axes", std::vector<std::int64_t>{2}), attr("keepdims", 1)});
  auto mean = g.node(s, "Squeeze", {mean_k, g.const_i64({2})});
  auto dev = g.node(s, "Sub", {x, mean_k});
  auto sq = g.node(s, "Mul", {dev, dev});
  auto ss = g.node(s, "ReduceSum", {sq, g.const_i64({2})}, {attr("keepdims", 0)});
  auto frames = g.node(s, "Gather", {g.node(s, "Shape", {x}), g.scalar_i64(2)}, {attr("axis", 0)});
  auto n1 = g.node(s, "Sub", {g.node(s, "Cast", {frames}, {attr("to", kFloat)}), g.scalar_f32(1.0f)});
  auto std_dev = g.node(s, "Sqrt", {g.node(s, "Div", {ss, n1})});
  auto stats = g.node(s, "Concat", {mean, std_dev}, {attr("axis", -1)});
  auto emb = linear(ctx, "/feature_extractor_head", stats, "feature_extractor", 2 * dims.back(), X, true);
  auto logits = linear(ctx, "/classifier", emb, "classifier", X, X, true);
  const Dim B = std::string("batch_size");
  return {{"logits", logits, {B, X}}, {"embeddings", emb, {B, X}}};
}

std::string Wav2Vec2::encoder_layer(BuildContext& ctx, std::int64_t, const std::string& scope, const std::string& x,
                                    const LayerNames& n, const LayerDims& d, bool stable, std::string&) const {
  return stable ? pre_ln_transformer_layer(ctx, scope, x, n, d) : transformer_layer(ctx, scope, x, n, d);
}

std::unique_ptr<Architecture> make_wav2vec2_architecture() {
  return std::make_unique<Wav2Vec2>("wav2vec2", "Wav2Vec2", "wav2vec2", false);
}

std::unique_ptr<Architecture> make_hubert_architecture() {
  return std::make_unique<Wav2Vec2>("hubert", "Hubert", "hubert", true);
}

}  // namespace ortformers::exporters
