// ViT (transformers' modeling_vit.py): patch embedding (Conv with stride = patch size), CLS token, learned
// position embeddings, pre-LN layers (layernorm_before / layernorm_after), final LayerNorm.
// Tasks: feature-extraction (last_hidden_state; optimum's export has no pooler output) and image-classification
// (classifier on the CLS token of the final LayerNorm).
#include <utility>

#include "export/architectures/architecture.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

// An int or a [h, w] pair of config.json (image_size, patch_size).
std::pair<std::int64_t, std::int64_t> int_pair(const config::PretrainedConfig& c, const std::string& key,
                                               std::int64_t fallback) {
  if (!c.has(key)) return {fallback, fallback};
  const Json& j = c.json().at(key);
  if (j.is_number_integer()) return {j.get<std::int64_t>(), j.get<std::int64_t>()};
  if (j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number_integer())
    return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>()};
  throw UnsupportedError(c.source() + ": " + key + " " + j.dump() + " is not an integer or a pair of integers");
}

class ViT : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"vit"}; }
  std::string base_model_prefix() const override { return "vit"; }
  std::vector<std::string> tasks() const override { return {"feature-extraction", "image-classification"}; }
  bool token_inputs() const override { return false; }

  std::string task_for_class(const std::string& class_name) const override {
    if (class_name == "ViTModel") return "feature-extraction";
    if (class_name == "ViTForImageClassification") return "image-classification";
    return "";
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto channels = c.get<std::int64_t>("num_channels", 3);
    const auto [ih, iw] = int_pair(c, "image_size", 224);
    const auto [ph, pw] = int_pair(c, "patch_size", 16);
    if (ph <= 0 || pw <= 0 || ih % ph != 0 || iw % pw != 0)
      throw UnsupportedError(c.source() + ": image_size " + std::to_string(ih) + "x" + std::to_string(iw) +
                             " is not a multiple of patch_size " + std::to_string(ph) + "x" + std::to_string(pw));
    const std::int64_t tokens = (ih / ph) * (iw / pw) + 1;
    const std::string act = c.get<std::string>("hidden_act", "gelu");
    const float eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12));

    g.add_input("pixel_values", kFloat,
                {std::string("batch_size"), std::string("num_channels"), std::string("height"), std::string("width")});

    // Embeddings: Conv patches [B, H, h, w] -> [B, h*w, H]; CLS first; + position embeddings.
    const std::string es = "/embeddings";
    const std::string pw_name = "embeddings.patch_embeddings.projection.weight";
    const std::string pb_name = "embeddings.patch_embeddings.projection.bias";
    auto wi = ctx.weight(ctx.w.resolve(pw_name), ctx.w.get(pw_name, {H, channels, ph, pw}));
    std::vector<std::string> conv_in{"pixel_values", wi};
    if (const Tensor* b = ctx.w.find(pb_name)) {
      if (b->shape() != Shape{H})
        throw InvalidArgument("config/weights mismatch: tensor '" + pb_name + "' has shape " +
                              shape_to_string(b->shape()) + " but config.json implies " + shape_to_string({H}));
      conv_in.push_back(ctx.weight(ctx.w.resolve(pb_name), *b));
    }
    auto patches = g.node(
        es + "/patch_embeddings/projection", "Conv", conv_in,
        {attr("kernel_shape", std::vector<std::int64_t>{ph, pw}), attr("strides", std::vector<std::int64_t>{ph, pw})});
    patches = g.node(es + "/patch_embeddings", "Reshape", {patches, g.const_i64({0, 0, -1})});
    patches =
        g.node(es + "/patch_embeddings", "Transpose", {patches}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
    auto cls = ctx.weight(ctx.w.resolve("embeddings.cls_token"), ctx.w.get("embeddings.cls_token", {1, 1, H}));
    auto shape = g.node(es, "Shape", {patches});
    auto batch = g.node(es, "Slice", {shape, g.const_i64({0}), g.const_i64({1})});
    auto cls_shape = g.node(es, "Concat", {batch, g.const_i64({1, H})}, {attr("axis", 0)});
    auto cls_b = g.node(es, "Expand", {cls, cls_shape});
    auto e = g.node(es, "Concat", {cls_b, patches}, {attr("axis", 1)});
    auto pos = ctx.weight(ctx.w.resolve("embeddings.position_embeddings"),
                          ctx.w.get("embeddings.position_embeddings", {1, tokens, H}));
    auto x = g.node(es, "Add", {e, pos});

    LayerDims d;
    d.hidden = H;
    d.heads = c.require<std::int64_t>("num_attention_heads");
    d.intermediate = c.require<std::int64_t>("intermediate_size");
    d.eps = eps;
    d.act = act;
    const auto L = c.require<std::int64_t>("num_hidden_layers");
    for (std::int64_t i = 0; i < L; ++i) {
      if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i) + "/" + std::to_string(L));
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      LayerNames n;
      n.query = p + "attention.attention.query";
      n.key = p + "attention.attention.key";
      n.value = p + "attention.attention.value";
      n.attention_output = p + "attention.output.dense";
      n.attention_layer_norm = p + "layernorm_before";
      n.intermediate = p + "intermediate.dense";
      n.output = p + "output.dense";
      n.output_layer_norm = p + "layernorm_after";
      x = pre_ln_transformer_layer(ctx, "/encoder/layer." + std::to_string(i), x, n, d);
    }
    x = layer_norm(ctx, "/layernorm", x, "layernorm", H, eps);

    const Dim B = std::string("batch_size");
    if (task == "feature-extraction") return {{"last_hidden_state", x, {B, tokens, H}}};
    if (task == "image-classification") {
      auto first = first_token(ctx, "/classifier", x);
      const auto labels = c.num_labels();
      return {{"logits", linear(ctx, "/classifier", first, "classifier", H, labels, true), {B, labels}}};
    }
    throw UnsupportedError("task '" + task + "' is not supported for model_type 'vit'");
  }
};

}  // namespace

std::unique_ptr<Architecture> make_vit_architecture() {
  return std::make_unique<ViT>();
}

}  // namespace ortformers::exporters
