// ELECTRA (modeling_electra.py): BERT embeddings at embedding_size, projected to hidden_size by
// embeddings_project when the sizes differ; BERT layers. Heads: classification head (dense, gelu, out_proj) on
// the first token, token classifier, qa_outputs, generator head (dense to embedding_size, gelu, LayerNorm, tied
// generator_lm_head), multiple choice (sequence summary: first token, summary Linear + activation, classifier).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Electra : public EncoderArchitecture {
 public:
  Electra() : EncoderArchitecture({"electra"}, "electra", /*token_type_ids=*/true) {}

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", H);
    auto x = text_embeddings(ctx, in, {.dim = E});
    if (E != H || ctx.w.find("embeddings_project.weight") != nullptr)
      x = linear(ctx, "/embeddings_project", x, "embeddings_project", E, H);
    return bert_style_encoder(ctx, x, bert_layer_dims(c), c.require<std::int64_t>("num_hidden_layers"));
  }

  // ELECTRA's multiple-choice head: SequenceSummary (first token, optional projection + activation) + classifier.
  static std::string sequence_summary_head(BuildContext& ctx, const std::string& hidden, std::int64_t H) {
    const auto& c = ctx.config;
    const auto labels = c.num_labels();
    auto x = first_token(ctx, "/sequence_summary", hidden);
    if (!c.get<bool>("summary_use_proj", true)) return linear(ctx, "/classifier", x, "classifier", H, 1, true);
    const bool to_labels = c.get<bool>("summary_proj_to_labels", true) && labels > 0;
    const auto out = to_labels ? labels : H;
    x = linear(ctx, "/sequence_summary/summary", x, "sequence_summary.summary", H, out, true);
    const auto act = c.get<std::string>("summary_activation", "");
    if (!act.empty()) x = activation(ctx, "/sequence_summary/activation", x, act);
    return linear(ctx, "/classifier", x, "classifier", out, 1, true);
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    if (task == "multiple-choice") return {{"logits", sequence_summary_head(ctx, hidden, H)}};
    EncoderHeads heads;
    heads.classification = {.scope = "/classifier",
                            .dense = "classifier.dense",
                            .activation_scope = "/classifier/activation",
                            .activation = "gelu",
                            .output = "classifier.out_proj"};
    heads.masked_lm = {.dense = "generator_predictions.dense",
                       .activation_scope = "/generator_predictions/activation",
                       .activation = "gelu",
                       .layer_norm = "generator_predictions.LayerNorm",
                       .dim = c.get<std::int64_t>("embedding_size", H),
                       .eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)),
                       .decoder_weight = "generator_lm_head.weight",
                       .bias_names = {"generator_lm_head.bias"}};
    return encoder_head(ctx, *this, task, hidden, H, heads);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_electra_architecture() {
  return std::make_unique<Electra>();
}

}  // namespace ortformers::exporters
