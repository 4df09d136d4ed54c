#include "export/architectures/vit_family.hpp"

#include <algorithm>
#include <tuple>

#include "export/architectures/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

MediaArchitecture::MediaArchitecture(std::string model_type, std::string base_model_prefix,
                                     std::vector<std::pair<std::string, std::string>> class_tasks)
    : model_type_(std::move(model_type)), prefix_(std::move(base_model_prefix)), class_tasks_(std::move(class_tasks)) {}

std::vector<std::string> MediaArchitecture::tasks() const {
  std::vector<std::string> out;
  for (const auto& [cls, task] : class_tasks_)
    if (std::find(out.begin(), out.end(), task) == out.end()) out.push_back(task);
  return out;
}

std::string MediaArchitecture::task_for_class(const std::string& class_name) const {
  for (const auto& [cls, task] : class_tasks_)
    if (cls == class_name) return task;
  return "";
}

void MediaArchitecture::unsupported_task(const std::string& task) const {
  throw UnsupportedError("task '" + task + "' is not supported for model_type '" + model_type_ + "'");
}

PatchGrid image_patch_grid(const config::PretrainedConfig& c) {
  PatchGrid p;
  p.channels = c.get<std::int64_t>("num_channels", 3);
  const auto [ih, iw] = config_int_pair(c, "image_size", 224);
  std::tie(p.ph, p.pw) = config_int_pair(c, "patch_size", 16);
  if (p.ph <= 0 || p.pw <= 0 || ih % p.ph != 0 || iw % p.pw != 0)
    throw UnsupportedError(c.source() + ": image_size " + std::to_string(ih) + "x" + std::to_string(iw) +
                           " is not a multiple of patch_size " + std::to_string(p.ph) + "x" + std::to_string(p.pw));
  p.patches = (ih / p.ph) * (iw / p.pw);
  return p;
}

std::pair<std::int64_t, std::int64_t> config_int_pair(const config::PretrainedConfig& c, const std::string& key,
                                                      std::int64_t fallback) {
  if (!c.has(key)) return {fallback, fallback};
  const Json& j = c.json().at(key);
  if (j.is_number_integer()) return {j.get<std::int64_t>(), j.get<std::int64_t>()};
  if (j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number_integer())
    return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>()};
  throw UnsupportedError(c.source() + ": " + key + " " + j.dump() + " is not an integer or a pair of integers");
}

std::string patch_embedding_tokens(BuildContext& ctx, const std::string& scope, const std::string& x,
                                   const std::string& prefix, std::int64_t H, std::int64_t channels,
                                   std::pair<std::int64_t, std::int64_t> kernel,
                                   std::pair<std::int64_t, std::int64_t> stride) {
  auto& g = ctx.g;
  const std::string wn = prefix + ".weight", bn = prefix + ".bias";
  auto wi = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {H, channels, kernel.first, kernel.second}));
  std::vector<std::string> conv_in{x, wi};
  if (const Tensor* b = ctx.w.find(bn)) {
    if (b->shape() != Shape{H})
      throw InvalidArgument("config/weights mismatch: tensor '" + bn + "' has shape " + shape_to_string(b->shape()) +
                            " but config.json implies " + shape_to_string({H}));
    conv_in.push_back(ctx.weight(ctx.w.resolve(bn), *b));
  }
  auto patches = g.node(scope + "/projection", "Conv", conv_in,
                        {attr("kernel_shape", std::vector<std::int64_t>{kernel.first, kernel.second}),
                         attr("strides", std::vector<std::int64_t>{stride.first, stride.second})});
  patches = g.node(scope, "Reshape", {patches, g.const_i64({0, 0, -1})});
  return g.node(scope, "Transpose", {patches}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
}

std::string embeddings_with_tokens(BuildContext& ctx, const std::string& scope, const std::string& patches,
                                   const std::vector<std::string>& tokens, const std::string& position_embeddings,
                                   std::int64_t H, std::int64_t total) {
  auto& g = ctx.g;
  auto shape = g.node(scope, "Shape", {patches});
  auto batch = g.node(scope, "Slice", {shape, g.const_i64({0}), g.const_i64({1})});
  auto token_shape = g.node(scope, "Concat", {batch, g.const_i64({1, H})}, {attr("axis", 0)});
  std::vector<std::string> parts;
  for (const auto& t : tokens)
    parts.push_back(g.node(scope, "Expand", {ctx.weight(ctx.w.resolve(t), ctx.w.get(t, {1, 1, H})), token_shape}));
  parts.push_back(patches);
  auto e = g.node(scope, "Concat", parts, {attr("axis", 1)});
  auto pos = ctx.weight(ctx.w.resolve(position_embeddings), ctx.w.get(position_embeddings, {1, total, H}));
  return g.node(scope, "Add", {e, pos});
}

std::string image_token_embeddings(BuildContext& ctx, const PatchGrid& grid, std::int64_t H,
                                   const std::vector<std::string>& special_tokens) {
  ctx.g.add_input(
      "pixel_values", onnx::TensorProto_DataType_FLOAT,
      {std::string("batch_size"), std::string("num_channels"), std::string("height"), std::string("width")});
  // Conv patches [B, H, h, w] -> [B, h*w, H]; the special tokens first; + position embeddings.
  auto patches = patch_embedding_tokens(ctx, "/embeddings/patch_embeddings", "pixel_values",
                                        "embeddings.patch_embeddings.projection", H, grid.channels, {grid.ph, grid.pw},
                                        {grid.ph, grid.pw});
  return embeddings_with_tokens(ctx, "/embeddings", patches, special_tokens, "embeddings.position_embeddings", H,
                                grid.patches + static_cast<std::int64_t>(special_tokens.size()));
}

std::string vit_encoder(BuildContext& ctx, const std::string& x_in, const LayerDims& d, const std::string& final_norm) {
  const auto L = ctx.config.require<std::int64_t>("num_hidden_layers");
  std::string x = x_in;
  for (std::int64_t i = 0; i < L; ++i) {
    report_layer(ctx, i, L);
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
  return layer_norm(ctx, "/" + final_norm, x, final_norm, d.hidden, d.eps);
}

}  // namespace ortformers::exporters
