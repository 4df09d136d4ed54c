// ConvNeXt (transformers' modeling_convnext.py): patch embedding (Conv k = stride = patch_size) + LayerNorm over the
// channels (channels-first, eps 1e-6), stages of [downsampling (channels-first LayerNorm + Conv 2x2 stride 2) when
// the width changes or after the first stage] + blocks: depthwise 7x7 Conv, LayerNorm (eps 1e-6) on channels-last,
// pointwise Linear to 4x, activation, Linear back, layer scale (gamma per channel, when present), residual.
// The model's head: mean over height and width, LayerNorm (layer_norm_eps), classifier.
// Tasks: feature-extraction (last_hidden_state [B, C, H/32, W/32], the stages' output) and image-classification.
#include "export/architectures/vit_family.hpp"
#include "export/graph/vision_layers.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr float kConvNextEps = 1e-6f;  // every LayerNorm inside the model (the config's eps is the head's)

using I64s = std::vector<std::int64_t>;

std::vector<std::int64_t> int_list(const config::PretrainedConfig& c, const std::string& key) {
  if (!c.has(key) || !c.json().at(key).is_array())
    throw InvalidArgument(c.source() + ": " + key + " must be a list of integers");
  return c.json().at(key).get<std::vector<std::int64_t>>();
}

// ConvNextLayerNorm(data_format="channels_first") on NCHW x: the LayerNorm over C of NHWC.
std::string channels_first_layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x,
                                      const std::string& prefix, std::int64_t channels) {
  auto& g = ctx.g;
  auto t = g.node(scope, "Transpose", {x}, {attr("perm", I64s{0, 2, 3, 1})});
  t = layer_norm(ctx, scope, t, prefix, channels, kConvNextEps);
  return g.node(scope, "Transpose", {t}, {attr("perm", I64s{0, 3, 1, 2})});
}

class ConvNext : public MediaArchitecture {
 public:
  ConvNext()
      : MediaArchitecture(
            "convnext", "convnext",
            {{"ConvNextModel", "feature-extraction"}, {"ConvNextForImageClassification", "image-classification"}}) {}

  std::int64_t hidden_size(const config::PretrainedConfig& config) const override {
    return int_list(config, "hidden_sizes").back();
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const auto hidden = int_list(c, "hidden_sizes"), depths = int_list(c, "depths");
    if (hidden.empty() || hidden.size() != depths.size())
      throw InvalidArgument(c.source() + ": hidden_sizes and depths must be non-empty lists of the same length (" +
                            std::to_string(hidden.size()) + ", " + std::to_string(depths.size()) + ")");
    if (c.has("num_stages") && c.require<std::int64_t>("num_stages") != static_cast<std::int64_t>(hidden.size()))
      throw InvalidArgument(c.source() + ": num_stages " + std::to_string(c.require<std::int64_t>("num_stages")) +
                            " differs from the length of hidden_sizes " + std::to_string(hidden.size()));
    const auto channels = c.get<std::int64_t>("num_channels", 3);
    const auto patch = c.get<std::int64_t>("patch_size", 4);
    const auto act = c.get<std::string>("hidden_act", "gelu");

    g.add_input("pixel_values", kFloat,
                {std::string("batch_size"), std::string("num_channels"), std::string("height"), std::string("width")});
    auto x = conv2d(ctx, "/embeddings/patch_embeddings", "pixel_values", "embeddings.patch_embeddings",
                    {channels, hidden[0], patch, patch, 0, 1, true});
    x = channels_first_layer_norm(ctx, "/embeddings/layernorm", x, "embeddings.layernorm", hidden[0]);

    std::int64_t prev = hidden[0];
    for (std::size_t i = 0; i < hidden.size(); ++i) {
      if (ctx.on_progress) ctx.on_progress("stage " + std::to_string(i) + "/" + std::to_string(hidden.size()));
      const std::string p = "encoder.stages." + std::to_string(i);
      const std::string s = "/encoder/stages." + std::to_string(i);
      const auto dim = hidden[i];
      if (prev != dim || i > 0) {
        x = channels_first_layer_norm(ctx, s + "/downsampling_layer.0", x, p + ".downsampling_layer.0", prev);
        x = conv2d(ctx, s + "/downsampling_layer.1", x, p + ".downsampling_layer.1", {prev, dim, 2, 2, 0, 1, true});
      }
      for (std::int64_t j = 0; j < depths[i]; ++j)
        x = block(ctx, s + "/layers." + std::to_string(j), x, p + ".layers." + std::to_string(j), dim, act);
      prev = dim;
    }

    const Dim B = std::string("batch_size");
    const auto C = hidden.back();
    if (task == "feature-extraction")
      return {{"last_hidden_state", x, {B, C, std::string("height"), std::string("width")}}};
    if (task == "image-classification") {
      auto pooled = g.node("/pooler", "ReduceMean", {x}, {attr("axes", I64s{2, 3}), attr("keepdims", 0)});
      pooled = layer_norm(ctx, "/layernorm", pooled, "layernorm", C,
                          static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)));
      const auto labels = c.num_labels();
      return {{"logits", linear(ctx, "/classifier", pooled, "classifier", C, labels, true), {B, labels}}};
    }
    unsupported_task(task);
  }

 private:
  // ConvNextLayer on NCHW x.
  static std::string block(BuildContext& ctx, const std::string& s, const std::string& x, const std::string& p,
                           std::int64_t dim, const std::string& act) {
    auto& g = ctx.g;
    auto y = conv2d(ctx, s + "/dwconv", x, p + ".dwconv", {dim, dim, 7, 1, 3, dim, true});
    y = g.node(s, "Transpose", {y}, {attr("perm", I64s{0, 2, 3, 1})});
    y = layer_norm(ctx, s + "/layernorm", y, p + ".layernorm", dim, kConvNextEps);
    auto [h, hb] = linear_parts(ctx, s + "/pwconv1", y, p + ".pwconv1", dim, 4 * dim);
    y = bias_activation(ctx, s + "/act", h, hb, act);
    y = linear(ctx, s + "/pwconv2", y, p + ".pwconv2", 4 * dim, dim);
    const std::string scale = p + ".layer_scale_parameter";
    if (const Tensor* gamma = ctx.w.find(scale)) {
      if (gamma->shape() != Shape{dim})
        throw InvalidArgument("config/weights mismatch: tensor '" + scale + "' has shape " +
                              shape_to_string(gamma->shape()) + " but config.json implies " + shape_to_string({dim}));
      y = g.node(s, "Mul", {ctx.weight(ctx.w.resolve(scale), *gamma), y});
    }
    y = g.node(s, "Transpose", {y}, {attr("perm", I64s{0, 3, 1, 2})});
    return g.node(s, "Add", {x, y});
  }
};

}  // namespace

std::unique_ptr<Architecture> make_convnext_architecture() {
  return std::make_unique<ConvNext>();
}

}  // namespace ortformers::exporters
