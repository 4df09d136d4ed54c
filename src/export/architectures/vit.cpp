// ViT (transformers' modeling_vit.py): patch embedding (Conv with stride = patch size), CLS token, learned
// position embeddings, pre-LN layers (layernorm_before / layernorm_after), final LayerNorm.
// Tasks: feature-extraction (last_hidden_state; optimum's export has no pooler output) and image-classification
// (classifier on the CLS token of the final LayerNorm).
#include <utility>

#include "export/architectures/vit_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

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
    const LayerDims d = vit_layer_dims(c);
    const auto H = d.hidden;
    const auto channels = c.get<std::int64_t>("num_channels", 3);
    const auto [ih, iw] = config_int_pair(c, "image_size", 224);
    const auto [ph, pw] = config_int_pair(c, "patch_size", 16);
    if (ph <= 0 || pw <= 0 || ih % ph != 0 || iw % pw != 0)
      throw UnsupportedError(c.source() + ": image_size " + std::to_string(ih) + "x" + std::to_string(iw) +
                             " is not a multiple of patch_size " + std::to_string(ph) + "x" + std::to_string(pw));
    const std::int64_t tokens = (ih / ph) * (iw / pw) + 1;

    g.add_input("pixel_values", kFloat,
                {std::string("batch_size"), std::string("num_channels"), std::string("height"), std::string("width")});
    // Embeddings: Conv patches [B, H, h, w] -> [B, h*w, H]; CLS first; + position embeddings.
    auto patches = patch_embedding_tokens(ctx, "/embeddings/patch_embeddings", "pixel_values",
                                          "embeddings.patch_embeddings.projection", H, channels, {ph, pw}, {ph, pw});
    auto x = embeddings_with_tokens(ctx, "/embeddings", patches, {"embeddings.cls_token"},
                                    "embeddings.position_embeddings", H, tokens);
    x = vit_encoder(ctx, x, d, "layernorm");

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
