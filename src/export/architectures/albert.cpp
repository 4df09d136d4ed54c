// ALBERT (modeling_albert.py): BERT embeddings at embedding_size, encoder.embedding_hidden_mapping_in to
// hidden_size, then num_hidden_layers applications of shared layer groups (layer i uses group
// i / (num_hidden_layers / num_hidden_groups), each group has inner_group_num layers). Heads: pooler (dense +
// tanh) + classifier, token classifier, qa_outputs, predictions (dense to embedding_size, act, LayerNorm, tied
// decoder + bias), multiple choice.
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class Albert : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"albert"}; }
  std::string base_model_prefix() const override { return "albert"; }
  bool uses_token_type_ids() const override { return true; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", 128);
    auto x = bert_style_embeddings(ctx, in, E, false);
    x = linear(ctx, "/encoder/embedding_hidden_mapping_in", x, "encoder.embedding_hidden_mapping_in", E, H);
    auto d = bert_layer_dims(c);
    const auto layers = c.require<std::int64_t>("num_hidden_layers");
    const auto groups = c.get<std::int64_t>("num_hidden_groups", 1);
    const auto inner = c.get<std::int64_t>("inner_group_num", 1);
    if (groups <= 0 || inner <= 0 || layers % groups != 0)
      throw InvalidArgument(c.source() + ": num_hidden_layers " + std::to_string(layers) +
                            " must be a positive multiple of num_hidden_groups " + std::to_string(groups));
    for (std::int64_t i = 0; i < layers; ++i) {
      const auto group = i / (layers / groups);
      for (std::int64_t j = 0; j < inner; ++j) {
        const std::string p =
            "encoder.albert_layer_groups." + std::to_string(group) + ".albert_layers." + std::to_string(j);
        LayerNames n;
        n.query = p + ".attention.query";
        n.key = p + ".attention.key";
        n.value = p + ".attention.value";
        n.attention_output = p + ".attention.dense";
        n.attention_layer_norm = p + ".attention.LayerNorm";
        n.intermediate = p + ".ffn";
        n.output = p + ".ffn_output";
        n.output_layer_norm = p + ".full_layer_layer_norm";
        x = transformer_layer(ctx, "/encoder/layer." + std::to_string(i) + "/albert_layers." + std::to_string(j), x, n,
                              d);
      }
      if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i + 1) + "/" + std::to_string(layers));
    }
    return x;
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", 128);
    const auto labels = c.num_labels();
    if (task == "text-classification" || task == "multiple-choice") {
      auto pooled = first_token(ctx, "/pooler", hidden);
      pooled = ctx.g.node("/pooler_activation", "Tanh", {linear(ctx, "/pooler", pooled, "pooler", H, H)});
      return {{"logits",
               linear(ctx, "/classifier", pooled, "classifier", H, task == "multiple-choice" ? 1 : labels, true)}};
    }
    if (task == "token-classification")
      return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
    if (task == "question-answering") return qa_head(ctx, hidden, H);
    if (task == "fill-mask") {
      auto x = linear(ctx, "/predictions/dense", hidden, "predictions.dense", H, E, true);
      x = activation(ctx, "/predictions/activation", x, c.get<std::string>("hidden_act", "gelu_new"));
      x = layer_norm(ctx, "/predictions/LayerNorm", x, "predictions.LayerNorm", E,
                     static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)), true);
      return {{"logits", mlm_decoder(ctx, "/predictions/decoder", x, c, E, "predictions.decoder.weight",
                                     {"predictions.bias", "predictions.decoder.bias"})}};
    }
    throw_unsupported_task(*this, task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_albert_architecture() {
  return std::make_unique<Albert>();
}

}  // namespace ortformers::exporters
