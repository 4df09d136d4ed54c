// DeiT (transformers' modeling_deit.py): ViT with a distillation token after the CLS token (position embeddings for
// patches + 2), the same pre-LN encoder and final LayerNorm. DeiTForImageClassificationWithTeacher (checkpoints
// with cls_classifier / distillation_classifier): logits = (cls_classifier(x[:, 0]) + distillation_classifier(x[:,
// 1])) / 2, what optimum exports; DeiTForImageClassification: classifier on x[:, 0].
// Tasks: feature-extraction (last_hidden_state) and image-classification.
#include "export/architectures/vit_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class DeiT : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"deit"}; }
  std::string base_model_prefix() const override { return "deit"; }
  std::vector<std::string> tasks() const override { return {"feature-extraction", "image-classification"}; }
  bool token_inputs() const override { return false; }

  std::string task_for_class(const std::string& class_name) const override {
    if (class_name == "DeiTModel") return "feature-extraction";
    if (class_name == "DeiTForImageClassification" || class_name == "DeiTForImageClassificationWithTeacher")
      return "image-classification";
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
    const std::int64_t tokens = (ih / ph) * (iw / pw) + 2;

    g.add_input("pixel_values", onnx::TensorProto_DataType_FLOAT,
                {std::string("batch_size"), std::string("num_channels"), std::string("height"), std::string("width")});
    auto patches = patch_embedding_tokens(ctx, "/embeddings/patch_embeddings", "pixel_values",
                                          "embeddings.patch_embeddings.projection", H, channels, {ph, pw}, {ph, pw});
    auto x =
        embeddings_with_tokens(ctx, "/embeddings", patches, {"embeddings.cls_token", "embeddings.distillation_token"},
                               "embeddings.position_embeddings", H, tokens);
    x = vit_encoder(ctx, x, d, "layernorm");

    const Dim B = std::string("batch_size");
    if (task == "feature-extraction") return {{"last_hidden_state", x, {B, tokens, H}}};
    if (task != "image-classification")
      throw UnsupportedError("task '" + task + "' is not supported for model_type 'deit'");
    const auto labels = c.num_labels();
    auto cls = first_token(ctx, "/cls_classifier", x);
    if (ctx.w.find_head("cls_classifier.weight") == nullptr)
      return {{"logits", linear(ctx, "/classifier", cls, "classifier", H, labels, true), {B, labels}}};
    auto dist = g.node("/distillation_classifier", "Gather", {x, g.scalar_i64(1)}, {attr("axis", 1)});
    auto a = linear(ctx, "/cls_classifier", cls, "cls_classifier", H, labels, true);
    auto b = linear(ctx, "/distillation_classifier", dist, "distillation_classifier", H, labels, true);
    auto sum = g.node("/logits", "Add", {a, b});
    return {{"logits", g.node("/logits", "Div", {sum, g.scalar_f32(2.0f)}), {B, labels}}};
  }
};

}  // namespace

std::unique_ptr<Architecture> make_deit_architecture() {
  return std::make_unique<DeiT>();
}

}  // namespace ortformers::exporters
