// SegFormer (transformers' modeling_segformer.py): a hierarchical encoder of num_encoder_blocks stages, each an
// overlapping patch embedding (Conv2d with padding patch_size // 2 + LayerNorm), pre-LN blocks with efficient
// self-attention (keys / values from a spatially reduced sequence: Conv2d kernel = stride = sr_ratio + LayerNorm)
// and a Mix-FFN (dense -> depthwise 3x3 Conv2d -> activation -> dense), then a per-stage LayerNorm and the NCHW
// reshape. The all-MLP decode head projects every stage to decoder_hidden_size, upsamples bilinearly to the first
// stage's size, concatenates in reverse order and fuses (1x1 conv, BatchNorm folded at export time, ReLU) before
// the 1x1 classifier. Every LayerNorm of the model is nn.LayerNorm's default eps (1e-5): config.layer_norm_eps is
// not used by the PyTorch modules.
#include <cmath>

#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"
#include "export/graph/vision_layers.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr float kLnEps = 1e-5f;  // nn.LayerNorm default, used by every SegFormer LayerNorm
constexpr float kBnEps = 1e-5f;  // nn.BatchNorm2d default
using I64s = std::vector<std::int64_t>;

struct SegformerDims {
  std::int64_t num_channels = 3, blocks = 4, decoder_hidden = 256;
  I64s depths, hidden, heads, patch, strides, sr, mlp_ratios;
  std::string act;
  bool reshape_last_stage = true;
};

I64s int_list(const config::PretrainedConfig& c, const std::string& key, std::int64_t n) {
  const auto v = c.require<I64s>(key);
  if (static_cast<std::int64_t>(v.size()) != n)
    throw InvalidArgument(c.source() + ": " + key + " has " + std::to_string(v.size()) +
                          " entries but num_encoder_blocks is " + std::to_string(n));
  for (auto x : v)
    if (x <= 0) throw InvalidArgument(c.source() + ": " + key + " has a non-positive entry " + std::to_string(x));
  return v;
}

SegformerDims read_dims(const config::PretrainedConfig& c) {
  SegformerDims d;
  d.num_channels = c.get<std::int64_t>("num_channels", 3);
  d.blocks = c.get<std::int64_t>("num_encoder_blocks", 4);
  if (d.blocks <= 0)
    throw UnsupportedError(c.source() + ": num_encoder_blocks " + std::to_string(d.blocks) + " is not supported");
  d.decoder_hidden = c.get<std::int64_t>("decoder_hidden_size", 256);
  d.depths = int_list(c, "depths", d.blocks);
  d.hidden = int_list(c, "hidden_sizes", d.blocks);
  d.heads = int_list(c, "num_attention_heads", d.blocks);
  d.patch = int_list(c, "patch_sizes", d.blocks);
  d.strides = int_list(c, "strides", d.blocks);
  d.sr = int_list(c, "sr_ratios", d.blocks);
  d.mlp_ratios = int_list(c, "mlp_ratios", d.blocks);
  d.act = c.get<std::string>("hidden_act", "gelu");
  d.reshape_last_stage = c.get<bool>("reshape_last_stage", true);
  for (std::int64_t i = 0; i < d.blocks; ++i)
    if (d.hidden[i] % d.heads[i] != 0)
      throw InvalidArgument(c.source() + ": hidden_sizes[" + std::to_string(i) + "] = " + std::to_string(d.hidden[i]) +
                            " is not a multiple of num_attention_heads[" + std::to_string(i) +
                            "] = " + std::to_string(d.heads[i]));
  return d;
}

// SegformerEfficientSelfAttention + SegformerSelfOutput on the pre-normed tokens x [B, S, C].
std::string efficient_attention(BuildContext& ctx, const std::string& scope, const std::string& x,
                                const std::string& prefix, std::int64_t C, std::int64_t heads, std::int64_t sr,
                                const std::string& h, const std::string& w) {
  auto& g = ctx.g;
  const std::string s = scope + "/attention/self", p = prefix + ".attention.self";
  const std::int64_t hd = C / heads;
  auto split_heads = [&](const std::string& name, const std::string& v, const I64s& perm) {
    auto r = g.node(s + "/" + name, "Reshape", {v, g.const_i64({0, 0, heads, hd})});
    return g.node(s + "/" + name, "Transpose", {r}, {attr("perm", perm)});
  };
  auto q = split_heads("query", linear(ctx, s + "/query", x, p + ".query", C, C), {0, 2, 1, 3});
  std::string kv = x;
  if (sr > 1) {
    auto img = tokens_to_nchw(ctx, s + "/sr", x, h, w, C);
    auto red = conv2d(ctx, s + "/sr", img, p + ".sr", {C, C, sr, sr, 0, 1, true});
    kv = nchw_to_tokens(ctx, s + "/sr", red);
    kv = layer_norm(ctx, s + "/layer_norm", kv, p + ".layer_norm", C, kLnEps);
  }
  auto kt = split_heads("key", linear(ctx, s + "/key", kv, p + ".key", C, C), {0, 2, 3, 1});
  auto v = split_heads("value", linear(ctx, s + "/value", kv, p + ".value", C, C), {0, 2, 1, 3});
  auto scores = g.node(s, "MatMul", {q, kt});
  scores = g.node(s, "Div", {scores, g.scalar_f32(static_cast<float>(std::sqrt(static_cast<double>(hd))))});
  auto probs = g.node(s, "Softmax", {scores}, {attr("axis", -1)});
  auto context = g.node(s, "MatMul", {probs, v});
  context = g.node(s, "Transpose", {context}, {attr("perm", I64s{0, 2, 1, 3})});
  context = g.node(s, "Reshape", {context, g.const_i64({0, 0, C})});
  return linear(ctx, scope + "/attention/output/dense", context, prefix + ".attention.output.dense", C, C);
}

// SegformerLayer: x + attn(LN1(x)); x + MixFFN(LN2(x)).
std::string segformer_layer(BuildContext& ctx, const std::string& scope, const std::string& x,
                            const std::string& prefix, const SegformerDims& d, std::int64_t stage, const std::string& h,
                            const std::string& w) {
  auto& g = ctx.g;
  const std::int64_t C = d.hidden[stage];
  auto ln1 = layer_norm(ctx, scope + "/layer_norm_1", x, prefix + ".layer_norm_1", C, kLnEps);
  auto attn = efficient_attention(ctx, scope, ln1, prefix, C, d.heads[stage], d.sr[stage], h, w);
  auto y = g.node(scope, "Add", {attn, x});
  auto ln2 = layer_norm(ctx, scope + "/layer_norm_2", y, prefix + ".layer_norm_2", C, kLnEps);
  const std::int64_t F = C * d.mlp_ratios[stage];
  const std::string m = scope + "/mlp", mp = prefix + ".mlp";
  auto f = linear(ctx, m + "/dense1", ln2, mp + ".dense1", C, F);
  auto img = tokens_to_nchw(ctx, m + "/dwconv", f, h, w, F);
  img = conv2d(ctx, m + "/dwconv/dwconv", img, mp + ".dwconv.dwconv", {F, F, 3, 1, 1, F, true});
  f = nchw_to_tokens(ctx, m + "/dwconv", img);
  f = activation(ctx, m + "/intermediate_act_fn", f, d.act);
  f = linear(ctx, m + "/dense2", f, mp + ".dense2", F, C);
  return g.node(scope, "Add", {f, y});
}

struct EncoderOut {
  std::vector<std::string> stages;  // per stage: NCHW (or [B, S, C] for the last one without reshape_last_stage)
};

EncoderOut segformer_encoder(BuildContext& ctx, const std::string& pixel_values, const SegformerDims& d) {
  EncoderOut out;
  std::string x = pixel_values;
  std::int64_t in = d.num_channels;
  for (std::int64_t i = 0; i < d.blocks; ++i) {
    const std::string si = std::to_string(i);
    const std::string es = "/encoder/patch_embeddings." + si, ep = "encoder.patch_embeddings." + si;
    const std::int64_t C = d.hidden[i];
    auto emb = conv2d(ctx, es + "/proj", x, ep + ".proj", {in, C, d.patch[i], d.strides[i], d.patch[i] / 2, 1, true});
    auto h = dim_of(ctx, es, emb, 2);
    auto w = dim_of(ctx, es, emb, 3);
    auto seq = nchw_to_tokens(ctx, es, emb);
    seq = layer_norm(ctx, es + "/layer_norm", seq, ep + ".layer_norm", C, kLnEps);
    for (std::int64_t j = 0; j < d.depths[i]; ++j) {
      const std::string sj = std::to_string(j);
      if (ctx.on_progress) ctx.on_progress("stage " + si + " layer " + sj);
      seq = segformer_layer(ctx, "/encoder/block." + si + "." + sj, seq, "encoder.block." + si + "." + sj, d, i, h, w);
    }
    seq = layer_norm(ctx, "/encoder/layer_norm." + si, seq, "encoder.layer_norm." + si, C, kLnEps);
    if (i != d.blocks - 1 || d.reshape_last_stage)
      x = tokens_to_nchw(ctx, "/encoder/reshape." + si, seq, h, w, C);
    else
      x = seq;
    out.stages.push_back(x);
    in = C;
  }
  return out;
}

std::string decode_head(BuildContext& ctx, const EncoderOut& enc, const SegformerDims& d, std::int64_t labels) {
  auto& g = ctx.g;
  const std::int64_t D = d.decoder_hidden;
  std::vector<std::string> ups;
  for (std::int64_t i = 0; i < d.blocks; ++i) {
    const std::string si = std::to_string(i), s = "/decode_head/linear_c." + si;
    const std::string& hs = enc.stages[static_cast<std::size_t>(i)];
    auto h = dim_of(ctx, s, hs, 2);
    auto w = dim_of(ctx, s, hs, 3);
    auto t = linear(ctx, s + "/proj", nchw_to_tokens(ctx, s, hs), "decode_head.linear_c." + si + ".proj", d.hidden[i],
                    D, true);
    auto img = tokens_to_nchw(ctx, s, t, h, w, D);
    // interpolate to the first stage's size (an identity for the first stage)
    if (i != 0) img = resize_bilinear_like(ctx, s + "/interpolate", img, enc.stages[0]);
    ups.push_back(img);
  }
  std::vector<std::string> rev(ups.rbegin(), ups.rend());
  auto cat = g.node("/decode_head", "Concat", rev, {attr("axis", 1)});
  auto fused = conv2d(ctx, "/decode_head/linear_fuse", cat, "decode_head.linear_fuse",
                      {D * d.blocks, D, 1, 1, 0, 1, false}, true);
  fused = batch_norm_2d(ctx, "/decode_head/batch_norm", fused, "decode_head.batch_norm", D, kBnEps, true);
  fused = g.node("/decode_head/activation", "Relu", {fused});
  return conv2d(ctx, "/decode_head/classifier", fused, "decode_head.classifier", {D, labels, 1, 1, 0, 1, true}, true);
}

class Segformer : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"segformer"}; }
  std::string base_model_prefix() const override { return "segformer"; }
  std::vector<std::string> tasks() const override { return {"feature-extraction", "semantic-segmentation"}; }
  bool token_inputs() const override { return false; }
  std::string task_for_class(const std::string& class_name) const override {
    if (class_name == "SegformerForSemanticSegmentation") return "semantic-segmentation";
    if (class_name == "SegformerModel") return "feature-extraction";
    return "";
  }
  std::int64_t hidden_size(const config::PretrainedConfig& config) const override {
    return read_dims(config).hidden.back();
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    if (task != "feature-extraction" && task != "semantic-segmentation") throw_unsupported_task(*this, task);
    const auto d = read_dims(c);
    if (task == "semantic-segmentation" && !d.reshape_last_stage)
      throw UnsupportedError(c.source() +
                             ": reshape_last_stage false is not supported by the exporter for semantic-segmentation");
    const Dim B = std::string("batch_size");
    ctx.g.add_input("pixel_values", kFloat,
                    {B, std::string("num_channels"), std::string("height"), std::string("width")});
    const auto enc = segformer_encoder(ctx, "pixel_values", d);
    if (task == "feature-extraction") {
      if (!d.reshape_last_stage)
        return {{"last_hidden_state", enc.stages.back(), {B, std::string("sequence_length"), d.hidden.back()}}};
      return {
          {"last_hidden_state", enc.stages.back(), {B, d.hidden.back(), std::string("height"), std::string("width")}}};
    }
    const auto labels = c.num_labels();
    if (labels <= 0) throw InvalidArgument(c.source() + ": num_labels must be positive for semantic-segmentation");
    auto logits = decode_head(ctx, enc, d, labels);
    return {{"logits", logits, {B, std::string("num_labels"), std::string("height"), std::string("width")}}};
  }
};

}  // namespace

std::unique_ptr<Architecture> make_segformer_architecture() {
  return std::make_unique<Segformer>();
}

}  // namespace ortformers::exporters
