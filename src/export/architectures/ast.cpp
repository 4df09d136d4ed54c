// Audio Spectrogram Transformer (transformers' modeling_audio_spectrogram_transformer.py): the fbank
// [B, max_length, num_mel_bins] as a one-channel image [B, 1, num_mel_bins, max_length], 16x16 patches with strides
// (frequency_stride, time_stride), CLS and distillation tokens, position embeddings, ViT's pre-LN encoder and final
// LayerNorm. ASTForAudioClassification: the mean of the two tokens, LayerNorm, dense (ASTMLPHead).
// Tasks: feature-extraction (last_hidden_state) and audio-classification. Input sizes are fixed by the config, as
// in optimum's export (only the batch axis is dynamic).
#include "export/architectures/common.hpp"
#include "export/architectures/vit_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class AST : public MediaArchitecture {
 public:
  AST()
      : MediaArchitecture("audio-spectrogram-transformer", "audio_spectrogram_transformer",
                          {{"ASTModel", "feature-extraction"}, {"ASTForAudioClassification", "audio-classification"}}) {
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const LayerDims d = bert_layer_dims(c);
    const auto H = d.hidden;
    const auto patch = c.get<std::int64_t>("patch_size", 16);
    const auto fstride = c.get<std::int64_t>("frequency_stride", 10), tstride = c.get<std::int64_t>("time_stride", 10);
    const auto bins = c.get<std::int64_t>("num_mel_bins", 128), frames = c.get<std::int64_t>("max_length", 1024);
    if (patch <= 0 || fstride <= 0 || tstride <= 0 || bins < patch || frames < patch)
      throw UnsupportedError(c.source() + ": patch_size " + std::to_string(patch) + ", strides " +
                             std::to_string(fstride) + "/" + std::to_string(tstride) + " do not fit num_mel_bins " +
                             std::to_string(bins) + " x max_length " + std::to_string(frames));
    const std::int64_t tokens = ((bins - patch) / fstride + 1) * ((frames - patch) / tstride + 1) + 2;

    const Dim B = std::string("batch_size");
    g.add_input("input_values", onnx::TensorProto_DataType_FLOAT, {B, frames, bins});
    auto img = g.node("/embeddings", "Unsqueeze", {"input_values", g.const_i64({1})});
    img = g.node("/embeddings", "Transpose", {img}, {attr("perm", std::vector<std::int64_t>{0, 1, 3, 2})});
    auto patches =
        patch_embedding_tokens(ctx, "/embeddings/patch_embeddings", img, "embeddings.patch_embeddings.projection", H, 1,
                               {patch, patch}, {fstride, tstride});
    auto x =
        embeddings_with_tokens(ctx, "/embeddings", patches, {"embeddings.cls_token", "embeddings.distillation_token"},
                               "embeddings.position_embeddings", H, tokens);
    x = vit_encoder(ctx, x, d, "layernorm");

    if (task == "feature-extraction") return {{"last_hidden_state", x, {B, tokens, H}}};
    if (task != "audio-classification") unsupported_task(task);
    // ASTModel's pooler_output: (x[:, 0] + x[:, 1]) / 2.
    auto cls = first_token(ctx, "/pooler", x);
    auto dist = g.node("/pooler", "Gather", {x, g.scalar_i64(1)}, {attr("axis", 1)});
    auto pooled = g.node("/pooler", "Div", {g.node("/pooler", "Add", {cls, dist}), g.scalar_f32(2.0f)});
    pooled = layer_norm(ctx, "/classifier/layernorm", pooled, "classifier.layernorm", H, d.eps, true);
    const auto labels = c.num_labels();
    return {{"logits", linear(ctx, "/classifier/dense", pooled, "classifier.dense", H, labels, true), {B, labels}}};
  }
};

}  // namespace

std::unique_ptr<Architecture> make_ast_architecture() {
  return std::make_unique<AST>();
}

}  // namespace ortformers::exporters
