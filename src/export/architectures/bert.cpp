// BERT (transformers' modeling_bert.py): word + position + token-type embeddings, LayerNorm, post-LN layers;
// heads: pooler (dense + tanh) + classifier, token classifier, qa_outputs, MLM head with the tied decoder.
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Bert : public EncoderArchitecture {
 public:
  Bert() : EncoderArchitecture({"bert"}, "bert", /*token_type_ids=*/true) {}

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto e = text_embeddings(ctx, in, {.dim = c.require<std::int64_t>("hidden_size")});
    return bert_style_encoder(ctx, e, bert_layer_dims(c), c.require<std::int64_t>("num_hidden_layers"));
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("hidden_size");
    EncoderHeads heads;
    heads.classification = {.scope = "/pooler",
                            .dense = "pooler.dense",
                            .dense_in_base_model = true,
                            .activation_scope = "/pooler/activation",
                            .activation = "tanh"};
    heads.masked_lm = {.dense = "cls.predictions.transform.dense",
                       .activation_scope = "/cls/predictions/transform/transform_act_fn",
                       .activation = c.get<std::string>("hidden_act", "gelu"),
                       .layer_norm = "cls.predictions.transform.LayerNorm",
                       .dim = H,
                       .eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12)),
                       .decoder_weight = "cls.predictions.decoder.weight",
                       .bias_names = {"cls.predictions.bias", "cls.predictions.decoder.bias"}};
    return encoder_head(ctx, *this, task, hidden, H, heads);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_bert_architecture() {
  return std::make_unique<Bert>();
}

}  // namespace ortformers::exporters
