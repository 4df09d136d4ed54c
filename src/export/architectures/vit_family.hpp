#pragma once
// Pieces shared by the ViT-layout architectures (ViT, DeiT, AST): patch embeddings (Conv with kernel = patch size,
// flattened to tokens), special tokens prepended (CLS, DeiT's distillation token), learned position embeddings,
// and the pre-LN encoder with ViT's tensor names (layernorm_before / attention.attention.* / layernorm_after).
#include <string>
#include <utility>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

// An int or an [h, w] pair of config.json (image_size, patch_size); UnsupportedError otherwise.
std::pair<std::int64_t, std::int64_t> config_int_pair(const config::PretrainedConfig& c, const std::string& key,
                                                      std::int64_t fallback);

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

// ViT's LayerDims from config.json (hidden_size, heads, intermediate_size, layer_norm_eps 1e-12, hidden_act).
LayerDims vit_layer_dims(const config::PretrainedConfig& c);

// num_hidden_layers pre-LN layers "encoder.layer.<i>" (ViT names), then the final LayerNorm `final_norm`.
std::string vit_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, const std::string& final_norm);

}  // namespace ortformers::exporters
