// Whisper (transformers 4.31 modeling_whisper.py, WhisperForConditionalGeneration): the encoder's convolutional
// front (conv1 k3 p1 -> GELU -> conv2 k3 s2 p1 -> GELU on input_features [batch, num_mel_bins, frames]), plus the
// positions the checkpoint stores (embed_positions: the sinusoids of the original model, one row per output frame),
// pre-LN encoder layers, encoder layer_norm; the decoder: token embeddings + learned positions (rows past .. past +
// new - 1), pre-LN layers (self-attention, cross-attention, fc1 -> activation -> fc2), layer_norm, and proj_out tied to
// embed_tokens. Attention as BART's (query scaled by head_dim ** -0.5 after its bias; k_proj has no bias).
// Tasks: automatic-speech-recognition(-with-past), optimum 1.17's files (encoder_decoder_family.hpp): the encoder
// takes input_features [batch_size, feature_size, encoder_sequence_length] and returns last_hidden_state
// [batch_size, "encoder_sequence_length / 2", d_model]; the decoders have no encoder_attention_mask.
#include <cmath>

#include "export/architectures/common.hpp"
#include "export/architectures/decoder_family.hpp"
#include "export/architectures/encoder_decoder_family.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

struct WhisperDims : BartStyleDims {
  std::int64_t mel_bins = 0, source_positions = 0, target_positions = 0;
};

WhisperDims whisper_dims(const config::PretrainedConfig& c) {
  WhisperDims d;
  static_cast<BartStyleDims&>(d) = bart_style_dims(c);
  d.mel_bins = positive_config_int(c, {"num_mel_bins"}, 80);
  d.source_positions = positive_config_int(c, {"max_source_positions"}, 1500);
  d.target_positions = positive_config_int(c, {"max_target_positions"}, 448);
  return d;
}

// Conv1d `prefix` (weight [out, in, 3], bias [out]) with padding 1 and `stride`, then GELU (erf).
std::string conv_gelu(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                      std::int64_t in, std::int64_t out, std::int64_t stride) {
  auto& g = ctx.g;
  const std::string wn = prefix + ".weight", bn = prefix + ".bias";
  auto w = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {out, in, 3}));
  auto b = ctx.weight(ctx.w.resolve(bn), ctx.w.get(bn, {out}));
  auto y = g.node(scope, "Conv", {x, w, b},
                  {attr("kernel_shape", std::vector<std::int64_t>{3}), attr("pads", std::vector<std::int64_t>{1, 1}),
                   attr("strides", std::vector<std::int64_t>{stride})});
  return activation(ctx, scope + "/gelu", y, "gelu");
}

// One pre-LN layer: h += attention(LN(h)) [+= cross-attention(LN(h))] += fc2(act(fc1(LN(h)))).
struct LayerRefs {
  std::string scope, prefix;
  std::int64_t heads = 0, ffn = 0;
};

std::string ffn_block(BuildContext& ctx, const LayerRefs& r, const std::string& h, const WhisperDims& d) {
  auto n = layer_norm(ctx, r.scope + "/final_layer_norm", h, r.prefix + ".final_layer_norm", d.d_model, 1e-5f);
  auto f = activation(ctx, r.scope + "/activation_fn",
                      linear(ctx, r.scope + "/fc1", n, r.prefix + ".fc1", d.d_model, r.ffn), d.act);
  f = linear(ctx, r.scope + "/fc2", f, r.prefix + ".fc2", r.ffn, d.d_model);
  return ctx.g.node(r.scope, "Add", {h, f});
}

class Whisper : public EncoderDecoderArchitecture {
 public:
  Whisper()
      : EncoderDecoderArchitecture({"whisper"}, "model", "automatic-speech-recognition",
                                   {"WhisperForConditionalGeneration"}) {}

 protected:
  std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const WhisperDims d = whisper_dims(ctx.config);
    g.add_input("input_features", kFloat,
                {std::string("batch_size"), std::string("feature_size"), std::string("encoder_sequence_length")});
    auto h = conv_gelu(ctx, "/model/encoder/conv1", "input_features", "encoder.conv1", d.mel_bins, d.d_model, 1);
    h = conv_gelu(ctx, "/model/encoder/conv2", h, "encoder.conv2", d.d_model, d.d_model, 2);
    h = g.node("/model/encoder", "Transpose", {h}, {attr("perm", std::vector<std::int64_t>{0, 2, 1})});
    // + embed_positions.weight (4.31 adds the whole table: 3000 input frames give its 1500 rows; shorter inputs take
    // the first rows).
    const std::string pn = "encoder.embed_positions.weight";
    auto table = ctx.weight(ctx.w.resolve(pn), ctx.w.get(pn, {d.source_positions, d.d_model}));
    const std::string frames = dim_scalar(ctx, "/model/encoder/embed_positions", h, 1);
    auto pos =
        g.node("/model/encoder/embed_positions", "Slice",
               {table, g.const_i64({0}),
                g.node("/model/encoder/embed_positions", "Unsqueeze", {frames, g.const_i64({0})}), g.const_i64({0})});
    h = g.node("/model/encoder", "Add", {h, pos});
    const std::int64_t H = d.encoder_heads, D = d.d_model / H;
    const float scaling = static_cast<float>(std::pow(static_cast<double>(D), -0.5));
    for (std::int64_t l = 0; l < d.encoder_layers; ++l) {
      const LayerRefs r{"/model/encoder/layers." + std::to_string(l), "encoder.layers." + std::to_string(l), H,
                        d.encoder_ffn};
      const std::string a = r.scope + "/self_attn", ap = r.prefix + ".self_attn";
      auto n =
          layer_norm(ctx, r.scope + "/self_attn_layer_norm", h, r.prefix + ".self_attn_layer_norm", d.d_model, 1e-5f);
      auto q = projection_heads(ctx, a + "/q_proj", n, ap + ".q_proj", d.d_model, H, D, scaling);
      auto k = projection_heads(ctx, a + "/k_proj", n, ap + ".k_proj", d.d_model, H, D);
      auto v = projection_heads(ctx, a + "/v_proj", n, ap + ".v_proj", d.d_model, H, D);
      auto c = attention_core(ctx, a, q, k, v, "", H, D);
      h = g.node(r.scope, "Add", {h, linear(ctx, a + "/out_proj", c, ap + ".out_proj", d.d_model, d.d_model)});
      h = ffn_block(ctx, r, h, d);
      report_layer(ctx, l + 1, d.encoder_layers);
    }
    h = layer_norm(ctx, "/model/encoder/layer_norm", h, "encoder.layer_norm", d.d_model, 1e-5f);
    return encoder_outputs(h, d.d_model, std::string("encoder_sequence_length / 2"));
  }

  std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const override {
    auto& g = ctx.g;
    const WhisperDims d = whisper_dims(ctx.config);
    const std::int64_t H = d.decoder_heads, D = d.d_model / H;
    Seq2SeqDecoderOptions opts;
    opts.encoder_attention_mask = false;
    opts.encoder_sequence = std::string("encoder_sequence_length / 2");
    Seq2SeqDecoderGraph dg = seq2seq_decoder_inputs(ctx, {d.decoder_layers, H, D, d.d_model, d.vocab}, opts);
    const Tensor& embed_t = ctx.w.get("decoder.embed_tokens.weight", {d.vocab, d.d_model});
    const std::string embed = ctx.weight(ctx.w.resolve("decoder.embed_tokens.weight"), embed_t);
    auto h = g.node("/model/decoder/embed_tokens", "Gather", {embed, dg.input_ids});
    const std::string pn = "decoder.embed_positions.weight";
    auto table = ctx.weight(ctx.w.resolve(pn), ctx.w.get(pn, {d.target_positions, d.d_model}));
    auto positions =
        g.node("/model/decoder/embed_positions", "Range", {dg.past_length, dg.total_length, g.scalar_i64(1)});
    h = g.node("/model/decoder", "Add", {h, g.node("/model/decoder/embed_positions", "Gather", {table, positions})});
    const float scaling = static_cast<float>(std::pow(static_cast<double>(D), -0.5));
    for (std::int64_t l = 0; l < d.decoder_layers; ++l) {
      const LayerRefs r{"/model/decoder/layers." + std::to_string(l), "decoder.layers." + std::to_string(l), H,
                        d.decoder_ffn};
      const std::string a = r.scope + "/self_attn", ap = r.prefix + ".self_attn";
      auto n =
          layer_norm(ctx, r.scope + "/self_attn_layer_norm", h, r.prefix + ".self_attn_layer_norm", d.d_model, 1e-5f);
      auto q = projection_heads(ctx, a + "/q_proj", n, ap + ".q_proj", d.d_model, H, D, scaling);
      auto k = projection_heads(ctx, a + "/k_proj", n, ap + ".k_proj", d.d_model, H, D);
      auto v = projection_heads(ctx, a + "/v_proj", n, ap + ".v_proj", d.d_model, H, D);
      auto [kk, vv] = seq2seq_self_cache(ctx, dg, l, a, k, v);
      auto c = attention_core(ctx, a, q, kk, vv, dg.causal_additive, H, D);
      h = g.node(r.scope, "Add", {h, linear(ctx, a + "/out_proj", c, ap + ".out_proj", d.d_model, d.d_model)});
      const std::string x = r.scope + "/encoder_attn", xp = r.prefix + ".encoder_attn";
      n = layer_norm(ctx, r.scope + "/encoder_attn_layer_norm", h, r.prefix + ".encoder_attn_layer_norm", d.d_model,
                     1e-5f);
      q = projection_heads(ctx, x + "/q_proj", n, xp + ".q_proj", d.d_model, H, D, scaling);
      auto [ck, cv] = seq2seq_cross_cache(ctx, dg, l, [&] {
        return std::make_pair(
            projection_heads(ctx, x + "/k_proj", dg.encoder_hidden_states, xp + ".k_proj", d.d_model, H, D),
            projection_heads(ctx, x + "/v_proj", dg.encoder_hidden_states, xp + ".v_proj", d.d_model, H, D));
      });
      c = attention_core(ctx, x, q, ck, cv, "", H, D);
      h = g.node(r.scope, "Add", {h, linear(ctx, x + "/out_proj", c, xp + ".out_proj", d.d_model, d.d_model)});
      h = ffn_block(ctx, r, h, d);
      report_layer(ctx, l + 1, d.decoder_layers);
    }
    h = layer_norm(ctx, "/model/decoder/layer_norm", h, "decoder.layer_norm", d.d_model, 1e-5f);
    // proj_out, tied to embed_tokens (the loader restores the alias) unless the checkpoint's own differs.
    const Tensor* head = ctx.w.find_head("proj_out.weight");
    std::string logits;
    if (head == nullptr || head->raw_data() == embed_t.raw_data())
      logits = tied_lm_head(ctx, h, ctx.w.resolve("decoder.embed_tokens.weight"), embed_t, embed);
    else
      logits = linear(ctx, "/proj_out", h, "proj_out", d.d_model, d.vocab, true);
    return seq2seq_decoder_outputs(dg, logits);
  }
};

}  // namespace

std::unique_ptr<Architecture> make_whisper_architecture() {
  return std::make_unique<Whisper>();
}

}  // namespace ortformers::exporters
