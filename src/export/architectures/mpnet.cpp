// MPNet (modeling_mpnet.py): word + position embeddings (RoBERTa positions from padding_idx), LayerNorm; BERT
// layers whose attention (attn.q/k/v/o) adds a relative position bias shared by all layers: T5-style
// bidirectional buckets (relative_attention_num_buckets, max distance 128) looked up in
// encoder.relative_attention_bias. Heads: classification head dense-tanh-out_proj, token classifier,
// qa_outputs, lm_head (tied), multiple choice (pooler + classifier).
#include <cmath>

#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"

namespace ortformers::exporters {

namespace {

class MPNet : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"mpnet"}; }
  std::string base_model_prefix() const override { return "mpnet"; }
  bool uses_token_type_ids() const override { return false; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

  // [1, heads, seq, seq] bias from the bucketed relative positions (memory - context).
  static std::string position_bias(BuildContext& ctx, std::int64_t heads) {
    auto& g = ctx.g;
    const std::string s = "/encoder/relative_position";
    const auto buckets = ctx.config.get<std::int64_t>("relative_attention_num_buckets", 32);
    constexpr std::int64_t max_distance = 128;
    auto r = range_positions(ctx, s);
    auto mem = g.node(s, "Unsqueeze", {r, g.const_i64({0})});
    auto ctxp = g.node(s, "Unsqueeze", {r, g.const_i64({1})});
    auto rel = g.node(s, "Sub", {mem, ctxp});
    auto n = g.node(s, "Neg", {rel});
    const auto nb = buckets / 2;
    const auto max_exact = nb / 2;
    auto neg =
        g.node(s, "Cast", {g.node(s, "Less", {n, g.scalar_i64(0)})}, {attr("to", onnx::TensorProto_DataType_INT64)});
    auto ret = g.node(s, "Mul", {neg, g.scalar_i64(nb)});
    n = g.node(s, "Abs", {n});
    auto is_small = g.node(s, "Less", {n, g.scalar_i64(max_exact)});
    auto nf = g.node(s, "Cast", {n}, {attr("to", onnx::TensorProto_DataType_FLOAT)});
    auto lg = g.node(s, "Log", {g.node(s, "Div", {nf, g.scalar_f32(static_cast<float>(max_exact))})});
    lg = g.node(s, "Div",
                {lg, g.scalar_f32(static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact)))});
    lg = g.node(s, "Mul", {lg, g.scalar_f32(static_cast<float>(nb - max_exact))});
    // Cast of -inf (n = 0) is discarded by the Where below; clip first so the cast is defined.
    lg = g.node(s, "Max", {lg, g.scalar_f32(0.0f)});
    auto large = g.node(
        s, "Add", {g.node(s, "Cast", {lg}, {attr("to", onnx::TensorProto_DataType_INT64)}), g.scalar_i64(max_exact)});
    large = g.node(s, "Min", {large, g.scalar_i64(nb - 1)});
    ret = g.node(s, "Add", {ret, g.node(s, "Where", {is_small, n, large})});
    auto values = embedding(ctx, "/encoder/relative_attention_bias", ret, "encoder.relative_attention_bias.weight",
                            buckets, heads);
    auto t = g.node(s, "Transpose", {values}, {attr("perm", std::vector<std::int64_t>{2, 0, 1})});
    return g.node(s, "Unsqueeze", {t, g.const_i64({0})});
  }

  std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const override {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const auto H = c.require<std::int64_t>("hidden_size");
    const auto vocab = c.require<std::int64_t>("vocab_size");
    const auto max_pos = c.require<std::int64_t>("max_position_embeddings");
    const auto eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-12));
    auto words =
        embedding(ctx, "/embeddings/word_embeddings", in.input_ids, "embeddings.word_embeddings.weight", vocab, H);
    auto pos_ids =
        padded_positions(ctx, "/embeddings/position_ids", in.input_ids, c.get<std::int64_t>("pad_token_id", 1));
    auto pos =
        embedding(ctx, "/embeddings/position_embeddings", pos_ids, "embeddings.position_embeddings.weight", max_pos, H);
    auto x = layer_norm(ctx, "/embeddings/LayerNorm", g.node("/embeddings", "Add", {words, pos}),
                        "embeddings.LayerNorm", H, eps);
    auto d = bert_layer_dims(c);
    auto bias = position_bias(ctx, d.heads);
    const auto layers = c.require<std::int64_t>("num_hidden_layers");
    for (std::int64_t i = 0; i < layers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i);
      LayerNames n;
      n.query = p + ".attention.attn.q";
      n.key = p + ".attention.attn.k";
      n.value = p + ".attention.attn.v";
      n.attention_output = p + ".attention.attn.o";
      n.attention_layer_norm = p + ".attention.LayerNorm";
      n.intermediate = p + ".intermediate.dense";
      n.output = p + ".output.dense";
      n.output_layer_norm = p + ".output.LayerNorm";
      x = transformer_layer(ctx, "/encoder/layer." + std::to_string(i), x, n, d, bias);
      if (ctx.on_progress) ctx.on_progress("layer " + std::to_string(i + 1) + "/" + std::to_string(layers));
    }
    return x;
  }

  std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                     const std::string& hidden) const override {
    return roberta_style_head(ctx, *this, task, hidden);  // MPNet's heads are RoBERTa's, tensor names included
  }
};

}  // namespace

std::unique_ptr<Architecture> make_mpnet_architecture() {
  return std::make_unique<MPNet>();
}

}  // namespace ortformers::exporters
