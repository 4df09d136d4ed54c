// DistilBERT (modeling_distilbert.py): word + position embeddings (no token types), LayerNorm, post-LN layers
// with q_lin/k_lin/v_lin/out_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm. Heads: pre_classifier + ReLU
// + classifier, token classifier, qa_outputs, vocab_transform/vocab_layer_norm/vocab_projector (tied).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

class DistilBert : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"distilbert"}; }
  std::string base_model_prefix() const override { return "distilbert"; }
  bool uses_token_type_ids() const override { return false; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }
  std::int64_t hidden_size(const config::PretrainedConfig& c) const override { return c.require<std::int64_t>("dim"); }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const auto dim = c.require<std::int64_t>("dim");
    // sinusoidal_pos_embds: transformers stores the sinusoidal table in position_embeddings.weight, so it is
    // read like a learned one.
    const auto vocab = c.require<std::int64_t>("vocab_size");
    const auto max_pos = c.require<std::int64_t>("max_position_embeddings");
    auto words =
        embedding(ctx, "/embeddings/word_embeddings", in.input_ids, "embeddings.word_embeddings.weight", vocab, dim);
    auto pos = embedding(ctx, "/embeddings/position_embeddings", range_positions(ctx, "/embeddings/position_ids"),
                         "embeddings.position_embeddings.weight", max_pos, dim);
    auto x = g.node("/embeddings", "Add", {words, pos});
    x = layer_norm(ctx, "/embeddings/LayerNorm", x, "embeddings.LayerNorm", dim, 1e-12f);
    LayerDims d;
    d.hidden = dim;
    d.heads = c.require<std::int64_t>("n_heads");
    d.intermediate = c.require<std::int64_t>("hidden_dim");
    d.eps = 1e-12f;
    d.act = c.get<std::string>("activation", "gelu");
    const auto layers = c.require<std::int64_t>("n_layers");
    for (std::int64_t i = 0; i < layers; ++i) {
      const std::string p = "transformer.layer." + std::to_string(i);
      LayerNames n;
      n.query = p + ".attention.q_lin";
      n.key = p + ".attention.k_lin";
      n.value = p + ".attention.v_lin";
      n.attention_output = p + ".attention.out_lin";
      n.attention_layer_norm = p + ".sa_layer_norm";
      n.intermediate = p + ".ffn.lin1";
      n.output = p + ".ffn.lin2";
      n.output_layer_norm = p + ".output_layer_norm";
      x = transformer_layer(ctx, "/transformer/layer." + std::to_string(i), x, n, d);
      if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i + 1) + "/" + std::to_string(layers));
    }
    return x;
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("dim");
    const auto labels = c.num_labels();
    if (task == "text-classification" || task == "multiple-choice") {
      auto x = first_token(ctx, "/pre_classifier", hidden);
      x = ctx.g.node("/pre_classifier", "Relu", {linear(ctx, "/pre_classifier", x, "pre_classifier", H, H, true)});
      return {{"logits", linear(ctx, "/classifier", x, "classifier", H, task == "multiple-choice" ? 1 : labels, true)}};
    }
    if (task == "token-classification")
      return {{"logits", linear(ctx, "/classifier", hidden, "classifier", H, labels, true)}};
    if (task == "question-answering") return qa_head(ctx, hidden, H);
    if (task == "fill-mask") {
      auto x = linear(ctx, "/vocab_transform", hidden, "vocab_transform", H, H, true);
      x = activation(ctx, "/activation", x, c.get<std::string>("activation", "gelu"));
      x = layer_norm(ctx, "/vocab_layer_norm", x, "vocab_layer_norm", H, 1e-12f, true);
      return {{"logits",
               mlm_decoder(ctx, "/vocab_projector", x, c, H, "vocab_projector.weight", {"vocab_projector.bias"})}};
    }
    throw_unsupported_task(*this, task);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_distilbert_architecture() {
  return std::make_unique<DistilBert>();
}

}  // namespace ortformers::exporters
