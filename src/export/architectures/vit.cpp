// ViT (transformers' modeling_vit.py): patch embedding (Conv with stride = patch size), CLS token, learned
// position embeddings, pre-LN layers (layernorm_before / layernorm_after), final LayerNorm.
// Tasks: feature-extraction (last_hidden_state; optimum's export has no pooler output) and image-classification
// (classifier on the CLS token of the final LayerNorm).
#include <utility>

#include "export/architectures/common.hpp"
#include "export/architectures/vit_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class ViT : public MediaArchitecture {
 public:
  ViT()
      : MediaArchitecture("vit", "vit",
                          {{"ViTModel", "feature-extraction"}, {"ViTForImageClassification", "image-classification"}}) {
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    const LayerDims d = bert_layer_dims(c);
    const auto H = d.hidden;
    const PatchGrid grid = image_patch_grid(c);
    const std::int64_t tokens = grid.patches + 1;

    auto x = image_token_embeddings(ctx, grid, H, {"embeddings.cls_token"});
    x = vit_encoder(ctx, x, d, "layernorm");

    const Dim B = std::string("batch_size");
    if (task == "feature-extraction") return {{"last_hidden_state", x, {B, tokens, H}}};
    if (task == "image-classification") {
      auto first = first_token(ctx, "/classifier", x);
      const auto labels = c.num_labels();
      return {{"logits", linear(ctx, "/classifier", first, "classifier", H, labels, true), {B, labels}}};
    }
    unsupported_task(task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_vit_architecture() {
  return std::make_unique<ViT>();
}

}  // namespace ortformers::exporters
