// ELECTRA (modeling_electra.py): BERT embeddings at embedding_size, projected to hidden_size by
// embeddings_project when the sizes differ; BERT layers. Heads: classification head (dense, gelu, out_proj) on
// the first token, token classifier, qa_outputs, generator head (dense to embedding_size, gelu, LayerNorm, tied
// generator_lm_head), multiple choice (sequence summary: first token, summary Linear + activation, classifier).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Electra : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"electra"}; }
  std::string base_model_prefix() const override { return "electra"; }
  bool uses_token_type_ids() const override { return true; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", H);
    auto x = bert_style_embeddings(ctx, in, E, false);
    if (E != H || ctx.w.find("embeddings_project.weight") != nullptr)
      x = linear(ctx, "/embeddings_project", x, "embeddings_project", E, H);
    return bert_style_encoder(ctx, x, bert_layer_dims(c), c.require<std::int64_t>("num_hidden_layers"));
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto E = c.get<std::int64_t>("embedding_size", H);
    const auto labels = c.num_labels();
    if (task == "text-classification") {
      auto x = first_token(ctx, "/classifier", hidden);
      x = linear(ctx, "/classifier/dense", x, "classifier.dense", H, H, true);
      x = activation(ctx, "/classifier/activation", x, "gelu");
      return {{"logits", linear(ctx, "/classifier/out_proj", x, "classifier.out_proj", H, labels, true)}};
    }
    if (task == "multiple-choice") {
      auto x = first_token(ctx, "/sequence_summary", hidden);
      if (c.get<bool>("summary_use_proj", true)) {
        const bool to_labels = c.get<bool>("summary_proj_to_labels", true) && labels > 0;
        const auto out = to_labels ? labels : H;
        x = linear(ctx, "/sequence_summary/summary", x, "sequence_summary.summary", H, out, true);
        const auto act = c.get<std::string>("summary_activation", "");
        if (!act.empty()) x = activation(ctx, "/sequence_summary/activation", x, act);
        return {{"logits", linear(ctx, "/classifier", x, "classifier", out, 1, true)}};
      }
      return {{"logits", linear(ctx, "/classifier", x, "classifier", H, 1, true)}};
    }
    if (task == "token-classification")
      return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
    if (task == "question-answering") return qa_head(ctx, hidden, H);
    if (task == "fill-mask") {
      auto x = linear(ctx, "/generator_predictions/dense", hidden, "generator_predictions.dense", H, E, true);
      x = activation(ctx, "/generator_predictions/activation", x, "gelu");
      x = layer_norm(ctx, "/generator_predictions/LayerNorm", x, "generator_predictions.LayerNorm", E,
                     static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)), true);
      return {{"logits", mlm_decoder(ctx, "/generator_lm_head", x, c, E, "generator_lm_head.weight",
                                     {"generator_lm_head.bias"})}};
    }
    throw_unsupported_task(*this, task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_electra_architecture() {
  return std::make_unique<Electra>();
}

}  // namespace ortformers::exporters
