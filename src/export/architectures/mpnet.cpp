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

class MPNet : public EncoderArchitecture {
 public:
  MPNet() : EncoderArchitecture({"mpnet"}, "mpnet", /*token_type_ids=*/false) {}

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
    auto x = text_embeddings(
        ctx, in, {.dim = c.require<std::int64_t>("hidden_size"), .padding_positions = true, .token_types = false});
    auto d = bert_layer_dims(c);
    static const LayerLayout layout{".attention.attn.q", ".attention.attn.k",    ".attention.attn.v",
                                    ".attention.attn.o", ".attention.LayerNorm", ".intermediate.dense",
                                    ".output.dense",     ".output.LayerNorm"};
    return bert_style_encoder(ctx, x, d, c.require<std::int64_t>("num_hidden_layers"), "encoder", layout,
                              position_bias(ctx, d.heads));
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
