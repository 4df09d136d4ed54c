// DistilBERT (modeling_distilbert.py): word + position embeddings (no token types), LayerNorm, post-LN layers
// with q_lin/k_lin/v_lin/out_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm. Heads: pre_classifier + ReLU
// + classifier, token classifier, qa_outputs, vocab_transform/vocab_layer_norm/vocab_projector (tied).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class DistilBert : public EncoderArchitecture {
 public:
  DistilBert() : EncoderArchitecture({"distilbert"}, "distilbert", /*token_type_ids=*/false) {}
  std::int64_t hidden_size(const config::PretrainedConfig& c) const override { return c.require<std::int64_t>("dim"); }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    const auto dim = c.require<std::int64_t>("dim");
    // sinusoidal_pos_embds: transformers stores the sinusoidal table in position_embeddings.weight, so it is
    // read like a learned one.
    auto x = text_embeddings(ctx, in, {.dim = dim, .token_types = false, .eps = 1e-12f});
    LayerDims d;
    d.hidden = dim;
    d.heads = c.require<std::int64_t>("n_heads");
    d.intermediate = c.require<std::int64_t>("hidden_dim");
    d.eps = 1e-12f;
    d.act = c.get<std::string>("activation", "gelu");
    static const LayerLayout layout{".attention.q_lin", ".attention.k_lin", ".attention.v_lin", ".attention.out_lin",
                                    ".sa_layer_norm",   ".ffn.lin1",        ".ffn.lin2",        ".output_layer_norm"};
    return bert_style_encoder(ctx, x, d, c.require<std::int64_t>("n_layers"), "transformer", layout);
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    const auto& c = ctx.config;
    const auto H = c.require<std::int64_t>("dim");
    const auto act = c.get<std::string>("activation", "gelu");
    EncoderHeads heads;
    heads.classification = {.scope = "/pre_classifier",
                            .dense = "pre_classifier",
                            .activation_scope = "/pre_classifier",
                            .activation = "relu"};
    heads.masked_lm = {.dense = "vocab_transform",
                       .activation_scope = "/activation",
                       .activation = act,
                       .layer_norm = "vocab_layer_norm",
                       .dim = H,
                       .eps = 1e-12f,
                       .decoder_weight = "vocab_projector.weight",
                       .bias_names = {"vocab_projector.bias"}};
    return encoder_head(ctx, *this, task, hidden, H, heads);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_distilbert_architecture() {
  return std::make_unique<DistilBert>();
}

}  // namespace ortformers::exporters
