// DeiT (transformers' modeling_deit.py): ViT with a distillation token after the CLS token (position embeddings for
// patches + 2), the same pre-LN encoder and final LayerNorm. DeiTForImageClassificationWithTeacher (checkpoints
// with cls_classifier / distillation_classifier): logits = (cls_classifier(x[:, 0]) + distillation_classifier(x[:,
// 1])) / 2, what optimum exports; DeiTForImageClassification: classifier on x[:, 0].
// Tasks: feature-extraction (last_hidden_state) and image-classification.
#include "export/architectures/common.hpp"
#include "export/architectures/vit_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class DeiT : public MediaArchitecture {
 public:
  DeiT()
      : MediaArchitecture("deit", "deit",
                          {{"DeiTModel", "feature-extraction"},
                           {"DeiTForImageClassification", "image-classification"},
                           {"DeiTForImageClassificationWithTeacher", "image-classification"}}) {}

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const LayerDims d = bert_layer_dims(c);
    const auto H = d.hidden;
    const PatchGrid grid = image_patch_grid(c);
    const std::int64_t tokens = grid.patches + 2;

    auto x = image_token_embeddings(ctx, grid, H, {"embeddings.cls_token", "embeddings.distillation_token"});
    x = vit_encoder(ctx, x, d, "layernorm");

    const Dim B = std::string("batch_size");
    if (task == "feature-extraction") return {{"last_hidden_state", x, {B, tokens, H}}};
    if (task != "image-classification") unsupported_task(task);
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
