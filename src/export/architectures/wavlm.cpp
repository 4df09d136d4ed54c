// WavLM (transformers' modeling_wavlm.py): the Wav2Vec2 feature encoder, projection, positional convolution and
// heads (wav2vec2_family.hpp), with post-LN encoder layers whose attention adds a gated relative position bias:
// - the first layer's rel_attn_embed [num_buckets, heads] gives bias[h, i, j] = embed[bucket(j - i), h], with
//   bucket() the T5-style log bucketing of modeling_wavlm.py (num_buckets / 2 per direction, exact below a quarter
//   of num_buckets, logarithmic up to max_bucket_distance); the same ungated bias is passed to every layer;
// - each layer gates it per head and frame from its input x: p = sum over groups of 4 of gru_rel_pos_linear(x viewed
//   as [heads, head_dim]) -> [.., 2], a, b = sigmoid(p), gate = a * (b * gru_rel_pos_const - 1) + 2, and the scores
//   get gate[b, h, i] * bias[h, i, j].
// The bucket of every relative position is computed at export time in float32 as PyTorch does (positions beyond
// max_bucket_distance all fall in the last bucket), so the graph only gathers from a [2 * max_distance + 1, heads]
// table. With do_stable_layer_norm (WavLM-large and the x-vector models built on it) the layers are pre-LN
// (WavLMEncoderLayerStableLayerNorm: x + attention(layer_norm(x)), then + feed_forward(final_layer_norm(.))), the gate
// is computed from the attention's input layer_norm(x), and the encoder ends with its layer_norm (as Wav2Vec2's
// stable encoder, wav2vec2.cpp).
#include <cmath>

#include "export/architectures/wav2vec2_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

using I64s = std::vector<std::int64_t>;

// WavLMAttention._relative_positions_bucket for one relative position, in float32 like PyTorch.
std::int64_t relative_bucket(std::int64_t rel, std::int64_t num_buckets, std::int64_t max_distance) {
  const std::int64_t half = num_buckets / 2;
  std::int64_t bucket = rel > 0 ? half : 0;
  const std::int64_t r = rel < 0 ? -rel : rel;
  const std::int64_t max_exact = half / 2;
  if (r < max_exact) return bucket + r;
  float v = std::log(static_cast<float>(r) / static_cast<float>(max_exact));
  v = v / static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  v = v * static_cast<float>(half - max_exact);
  const auto large = static_cast<std::int64_t>(static_cast<float>(max_exact) + v);
  return bucket + std::min(large, half - 1);
}

class WavLM : public Wav2Vec2 {
 public:
  WavLM() : Wav2Vec2("wavlm", "WavLM", "wavlm", false) {}

 protected:
  void check_config(const config::PretrainedConfig& c) const override {
    Wav2Vec2::check_config(c);
    const auto nb = c.get<std::int64_t>("num_buckets", 320), md = c.get<std::int64_t>("max_bucket_distance", 800);
    if (nb < 4 || md <= nb / 4 || md > 1000000)
      throw UnsupportedError(c.source() + ": num_buckets " + std::to_string(nb) + " / max_bucket_distance " +
                             std::to_string(md) + " are out of the range the exporter handles");
  }

  std::string encoder_layer(BuildContext& ctx, std::int64_t index, const std::string& scope, const std::string& x,
                            const LayerNames& n, const LayerDims& d, bool stable, std::string& bias) const override {
    if (index == 0) bias = position_bias(ctx, x, d.heads);  // from the frame count only: x or layer_norm(x) alike
    if (stable) {
      const std::string ungated = bias;
      return pre_ln_transformer_layer(ctx, scope, x, n, d, [&](const std::string& normed) {
        return gated_bias(ctx, index, scope, normed, d, ungated);
      });
    }
    return transformer_layer(ctx, scope, x, n, d, gated_bias(ctx, index, scope, x, d, bias));
  }

 private:
  // [heads, T, T]: rel_attn_embed of the first layer at bucket(j - i).
  static std::string position_bias(BuildContext& ctx, const std::string& x, std::int64_t heads) {
    const auto& c = ctx.config;
    auto& g = ctx.g;
    const auto nb = c.get<std::int64_t>("num_buckets", 320), md = c.get<std::int64_t>("max_bucket_distance", 800);
    const std::string name = "encoder.layers.0.attention.rel_attn_embed.weight";
    const Tensor& embed = ctx.w.get(name, {nb, heads});
    const std::string resolved = ctx.w.resolve(name);
    // table[r + md] = embed[bucket(r)] for r in [-md, md].
    auto table = g.add_float_initializer("wavlm_bias_table:" + resolved, resolved + ".by_relative_position",
                                         {2 * md + 1, heads}, [embed, nb, md, heads](float* dst) {
                                           const Tensor f =
                                               embed.dtype() == DType::Float32 ? embed : embed.to(DType::Float32);
                                           const float* src = f.data<float>();
                                           for (std::int64_t r = -md; r <= md; ++r) {
                                             const std::int64_t b = relative_bucket(r, nb, md);
                                             std::copy(src + b * heads, src + (b + 1) * heads, dst + (r + md) * heads);
                                           }
                                         });
    const std::string s = "/encoder/layers.0/attention/rel_attn_embed";
    auto frames = g.node(s, "Gather", {g.node(s, "Shape", {x}), g.scalar_i64(1)}, {attr("axis", 0)});
    auto pos = g.node(s, "Range", {g.scalar_i64(0), frames, g.scalar_i64(1)});
    auto memory = g.node(s, "Unsqueeze", {pos, g.const_i64({0})});
    auto context = g.node(s, "Unsqueeze", {pos, g.const_i64({1})});
    auto rel = g.node(s, "Sub", {memory, context});  // [T, T]: j - i
    rel = g.node(s, "Min", {g.node(s, "Max", {rel, g.scalar_i64(-md)}), g.scalar_i64(md)});
    auto values = g.node(s, "Gather", {table, g.node(s, "Add", {rel, g.scalar_i64(md)})}, {attr("axis", 0)});
    return g.node(s, "Transpose", {values}, {attr("perm", I64s{2, 0, 1})});
  }

  // The bias of layer `index` gated from its input x [B, T, hidden]: [B, heads, T, T].
  static std::string gated_bias(BuildContext& ctx, std::int64_t index, const std::string& scope, const std::string& x,
                                const LayerDims& d, const std::string& bias) {
    auto& g = ctx.g;
    const auto heads = d.heads, D = d.hidden / d.heads;
    const std::string p = "encoder.layers." + std::to_string(index) + ".attention.";
    const std::string s = scope + "/attention/gru_rel_pos";
    auto xh = g.node(s, "Reshape", {x, g.const_i64({0, 0, heads, D})});  // [B, T, heads, D]
    auto proj = linear(ctx, s + "/gru_rel_pos_linear", xh, p + "gru_rel_pos_linear", D, 8);
    proj = g.node(s, "Reshape", {proj, g.const_i64({0, 0, heads, 2, 4})});
    proj = g.node(s, "ReduceSum", {proj, g.const_i64({-1})}, {attr("keepdims", 0)});
    auto gates = g.node(s, "Sigmoid", {proj});  // [B, T, heads, 2]
    auto a = g.node(s, "Slice", {gates, g.const_i64({0}), g.const_i64({1}), g.const_i64({-1})});
    auto b = g.node(s, "Slice", {gates, g.const_i64({1}), g.const_i64({2}), g.const_i64({-1})});
    const std::string cn = p + "gru_rel_pos_const";
    auto cst =
        g.node(s, "Reshape", {ctx.weight(ctx.w.resolve(cn), ctx.w.get(cn, {1, heads, 1, 1})), g.const_i64({heads, 1})});
    auto gate = g.node(s, "Sub", {g.node(s, "Mul", {b, cst}), g.scalar_f32(1.0f)});
    gate = g.node(s, "Add", {g.node(s, "Mul", {a, gate}), g.scalar_f32(2.0f)});  // [B, T, heads, 1]
    gate = g.node(s, "Transpose", {gate}, {attr("perm", I64s{0, 2, 1, 3})});     // [B, heads, T, 1]
    return g.node(s, "Mul", {gate, bias});                                       // [B, heads, T, T]
  }
};

}  // namespace

std::unique_ptr<Architecture> make_wavlm_architecture() {
  return std::make_unique<WavLM>();
}

}  // namespace ortformers::exporters
