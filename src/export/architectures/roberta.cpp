// RoBERTa (modeling_roberta.py; also camembert and xlm-roberta, which share it): BERT layers; positions start at
// padding_idx + 1 and skip padding (cumulative sum of the non-pad mask); no token_type_ids input in optimum's
// export. Heads: classification head dense-tanh-out_proj on <s>, token classifier, qa_outputs, lm_head
// (dense, gelu, layer_norm, tied decoder + bias), multiple choice (pooler + classifier).
#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class Roberta : public EncoderArchitecture {
 public:
  Roberta() : EncoderArchitecture({"roberta", "camembert", "xlm-roberta"}, "roberta", /*token_type_ids=*/false) {}

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto e = text_embeddings(ctx, in, {.dim = c.require<std::int64_t>("hidden_size"), .padding_positions = true});
    return bert_style_encoder(ctx, e, bert_layer_dims(c), c.require<std::int64_t>("num_hidden_layers"));
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    return roberta_style_head(ctx, *this, task, hidden);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_roberta_architecture() {
  return std::make_unique<Roberta>();
}

}  // namespace ortformers::exporters
