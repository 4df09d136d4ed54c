#pragma once
// Pieces shared by the ViT-layout architectures (ViT, DeiT, AST): patch embeddings (Conv with kernel = patch size,
// flattened to tokens), special tokens prepended (CLS, DeiT's distillation token), learned position embeddings,
// and the pre-LN encoder with ViT's tensor names (layernorm_before / attention.attention.* / layernorm_after).
#include <string>
#include <utility>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

// A vision / audio architecture given by its identity: model_type, base_model_prefix and the transformers classes
// it exports with their tasks (tasks() lists each task once, in that order). Used by ViT, DeiT, AST and ConvNeXt.
class MediaArchitecture : public Architecture {
 public:
  MediaArchitecture(std::string model_type, std::string base_model_prefix,
                    std::vector<std::pair<std::string, std::string>> class_tasks);
  std::vector<std::string> model_types() const override { return {model_type_}; }
  std::string base_model_prefix() const override { return prefix_; }
  std::vector<std::string> tasks() const override;
  bool token_inputs() const override { return false; }
  std::string task_for_class(const std::string& class_name) const override;

 protected:
  [[noreturn]] void unsupported_task(const std::string& task) const;

 private:
  std::string model_type_, prefix_;
  std::vector<std::pair<std::string, std::string>> class_tasks_;
};

// An int or an [h, w] pair of config.json (image_size, patch_size); UnsupportedError otherwise.
std::pair<std::int64_t, std::int64_t> config_int_pair(const config::PretrainedConfig& c, const std::string& key,
                                                      std::int64_t fallback);

// The patch grid of a ViT-layout image model: num_channels, patch_size (ph, pw) and the number of patches of
// image_size; UnsupportedError when the image size is not a multiple of the patch size.
struct PatchGrid {
  std::int64_t channels = 3, ph = 16, pw = 16, patches = 0;
};
PatchGrid image_patch_grid(const config::PretrainedConfig& c);

// Conv `prefix`.weight [H, channels, kh, kw] (+ optional bias) with stride (sh, sw) on NCHW x, flattened to tokens
// [B, h * w, H].
std::string patch_embedding_tokens(BuildContext& ctx, const std::string& scope, const std::string& x,
                                   const std::string& prefix, std::int64_t H, std::int64_t channels,
                                   std::pair<std::int64_t, std::int64_t> kernel,
                                   std::pair<std::int64_t, std::int64_t> stride);

// [tokens[0], tokens[1], ..., patches] + position_embeddings: each token tensor is a [1, 1, H] checkpoint tensor
// expanded over the batch; `position_embeddings` is [1, total, H].
std::string embeddings_with_tokens(BuildContext& ctx, const std::string& scope, const std::string& patches,
                                   const std::vector<std::string>& tokens, const std::string& position_embeddings,
                                   std::int64_t H, std::int64_t total);

// The pixel_values input [batch_size, num_channels, height, width] of an image model, its patches and
// `special_tokens` ("embeddings.cls_token", ...) + "embeddings.position_embeddings": [B, tokens, H].
std::string image_token_embeddings(BuildContext& ctx, const PatchGrid& grid, std::int64_t H,
                                   const std::vector<std::string>& special_tokens);

// num_hidden_layers pre-LN layers "encoder.layer.<i>" (ViT names), then the final LayerNorm `final_norm`.
std::string vit_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, const std::string& final_norm);

}  // namespace ortformers::exporters
