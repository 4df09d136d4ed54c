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

class Albert : public EncoderArchitecture {
 public:
  Albert() : EncoderArchitecture({"albert"}, "albert", /*token_type_ids=*/true) {}

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", 128);
    auto x = text_embeddings(ctx, in, {.dim = E});
    x = linear(ctx, "/encoder/embedding_hidden_mapping_in", x, "encoder.embedding_hidden_mapping_in", E, H);
    auto d = bert_layer_dims(c);
    const auto layers = c.require<std::int64_t>("num_hidden_layers");
    const auto groups = c.get<std::int64_t>("num_hidden_groups", 1);
    const auto inner = c.get<std::int64_t>("inner_group_num", 1);
    if (groups <= 0 || inner <= 0 || layers % groups != 0)
      throw InvalidArgument(c.source() + ": num_hidden_layers " + std::to_string(layers) +
                            " must be a positive multiple of num_hidden_groups " + std::to_string(groups));
    static const LayerLayout layout{".attention.query", ".attention.key",        ".attention.value",
                                    ".attention.dense", ".attention.LayerNorm",  ".ffn",
                                    ".ffn_output",      ".full_layer_layer_norm"};
    for (std::int64_t i = 0; i < layers; ++i) {
      const auto group = i / (layers / groups);
      for (std::int64_t j = 0; j < inner; ++j) {
        const std::string p =
            "encoder.albert_layer_groups." + std::to_string(group) + ".albert_layers." + std::to_string(j);
        x = transformer_layer(ctx, "/encoder/layer." + std::to_string(i) + "/albert_layers." + std::to_string(j), x,
                              layer_names(p, layout), d);
      }
      report_layer(ctx, i + 1, layers);
    }
    return x;
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    EncoderHeads heads;
    heads.classification = {.scope = "/pooler",
                            .dense = "pooler",
                            .dense_in_base_model = true,
                            .activation_scope = "/pooler_activation",
                            .activation = "tanh"};
    heads.masked_lm = {.dense = "predictions.dense",
                       .activation_scope = "/predictions/activation",
                       .activation = c.get<std::string>("hidden_act", "gelu_new"),
                       .layer_norm = "predictions.LayerNorm",
                       .dim = c.get<std::int64_t>("embedding_size", 128),
                       .eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)),
                       .decoder_weight = "predictions.decoder.weight",
                       .bias_names = {"predictions.bias", "predictions.decoder.bias"}};
    return encoder_head(ctx, *this, task, hidden, H, heads);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_albert_architecture() {
  return std::make_unique<Albert>();
}

}  // namespace ortformers::exporters
