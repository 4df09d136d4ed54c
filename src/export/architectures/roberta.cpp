// RoBERTa (modeling_roberta.py; also camembert and xlm-roberta, which share it): BERT layers; positions start at
// padding_idx + 1 and skip padding (cumulative sum of the non-pad mask); no token_type_ids input in optimum's
// export. Heads: classification head dense-tanh-out_proj on <s>, token classifier, qa_outputs, lm_head
// (dense, gelu, layer_norm, tied decoder + bias), multiple choice (pooler + classifier).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Roberta : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"roberta", "camembert", "xlm-roberta"}; }
  std::string base_model_prefix() const override { return "roberta"; }
  bool uses_token_type_ids() const override { return false; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto e = bert_style_embeddings(ctx, in, c.require<std::int64_t>("hidden_size"), /*padding_positions=*/true);
    return bert_style_encoder(ctx, e, bert_layer_dims(c), c.require<std::int64_t>("num_hidden_layers"));
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto labels = c.num_labels();
    if (task == "text-classification") {
      auto x = first_token(ctx, "/classifier", hidden);
      x = ctx.g.node("/classifier", "Tanh", {linear(ctx, "/classifier/dense", x, "classifier.dense", H, H, true)});
      return {{"logits", linear(ctx, "/classifier/out_proj", x, "classifier.out_proj", H, labels, true)}};
    }
    if (task == "multiple-choice") {
      auto pooled = first_token(ctx, "/pooler", hidden);
      pooled = ctx.g.node("/pooler/activation", "Tanh", {linear(ctx, "/pooler/dense", pooled, "pooler.dense", H, H)});
      return {{"logits", linear(ctx, "/classifier", pooled, "classifier", H, 1, true)}};
    }
    if (task == "token-classification")
      return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
    if (task == "question-answering") return qa_head(ctx, hidden, H);
    if (task == "fill-mask") {
      auto x = linear(ctx, "/lm_head/dense", hidden, "lm_head.dense", H, H, true);
      x = activation(ctx, "/lm_head/gelu", x, "gelu");
      x = layer_norm(ctx, "/lm_head/layer_norm", x, "lm_head.layer_norm", H,
                     static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)), true);
      return {{"logits", mlm_decoder(ctx, "/lm_head/decoder", x, c, H, "lm_head.decoder.weight",
                                     {"lm_head.bias", "lm_head.decoder.bias"})}};
    }
    throw_unsupported_task(*this, task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_roberta_architecture() {
  return std::make_unique<Roberta>();
}

}  // namespace ortformers::exporters
