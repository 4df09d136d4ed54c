// BERT (transformers' modeling_bert.py): word + position + token-type embeddings, LayerNorm, post-LN layers;
// heads: pooler (dense + tanh) + classifier, token classifier, qa_outputs, MLM head with the tied decoder.
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Bert : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"bert"}; }
  std::string base_model_prefix() const override { return "bert"; }
  bool uses_token_type_ids() const override { return true; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto hidden = c.require<std::int64_t>("hidden_size");
    auto e = bert_style_embeddings(ctx, in, hidden, /*padding_positions=*/false);
    auto d = bert_layer_dims(c);
    return bert_style_encoder(ctx, e, d, c.require<std::int64_t>("num_hidden_layers"));
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto labels = c.num_labels();
    if (task == "text-classification" || task == "multiple-choice") {
      auto pooled = first_token(ctx, "/pooler", hidden);
      pooled = ctx.g.node("/pooler/activation", "Tanh", {linear(ctx, "/pooler/dense", pooled, "pooler.dense", H, H)});
      const auto n = task == "multiple-choice" ? 1 : labels;
      return {{"logits", linear(ctx, "/classifier", pooled, "classifier", H, n, true)}};
    }
    if (task == "token-classification")
      return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
    if (task == "question-answering") return qa_head(ctx, hidden, H);
    if (task == "fill-mask") {
      auto x = linear(ctx, "/cls/predictions/transform/dense", hidden, "cls.predictions.transform.dense", H, H, true);
      x = activation(ctx, "/cls/predictions/transform/transform_act_fn", x, c.get<std::string>("hidden_act", "gelu"));
      x = layer_norm(ctx, "/cls/predictions/transform/LayerNorm", x, "cls.predictions.transform.LayerNorm", H,
                     static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)), true);
      return {{"logits", mlm_decoder(ctx, "/cls/predictions/decoder", x, c, H, "cls.predictions.decoder.weight",
                                     {"cls.predictions.bias", "cls.predictions.decoder.bias"})}};
    }
    throw_unsupported_task(*this, task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_bert_architecture() {
  return std::make_unique<Bert>();
}

}  // namespace ortformers::exporters
