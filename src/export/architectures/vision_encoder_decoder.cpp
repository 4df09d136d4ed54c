// VisionEncoderDecoderModel (transformers 4.31 modeling_vision_encoder_decoder.py) with a ViT / DeiT encoder and a
// GPT-2 decoder with cross-attention (config.json "encoder" / "decoder"; weights "encoder.*", "decoder.transformer.*",
// "decoder.lm_head.weight" when not tied, "enc_to_dec_proj.*" when the widths differ), as optimum 1.17 exports it
// for image-to-text(-with-past):
//   encoder_model.onnx             pixel_values [batch_size, num_channels, height, width] -> last_hidden_state (the
//                                  encoder's feature-extraction graph);
//   decoder_model.onnx             input_ids [batch_size, decoder_sequence_length], encoder_hidden_states
//                                  [batch_size, encoder_sequence_length, encoder hidden] -> logits (+ present.<i>.key /
//                                  value with past);
//   decoder_with_past_model.onnx   input_ids [batch_size, 1], encoder_hidden_states, past_key_values.<i>.key/value
//                                  -> logits [batch_size, "1", vocab], present.<i>.key/value.
// No attention_mask / position_ids inputs (VisionEncoderDecoderModel passes none: positions count from the past
// length); the cross-attention key/values are recomputed from encoder_hidden_states at every step, not cached.
#include "export/architectures/common.hpp"
#include "export/architectures/encoder_decoder_family.hpp"
#include "export/architectures/gpt2.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

class VisionEncoderDecoder : public EncoderDecoderArchitecture {
 public:
  VisionEncoderDecoder()
      : EncoderDecoderArchitecture({"vision-encoder-decoder"}, "", "image-to-text", {"VisionEncoderDecoderModel"}) {}

 protected:
  std::vector<GraphOutput> build_encoder_graph(BuildContext& ctx) const override {
    const auto [enc_cfg, dec_cfg] = configs(ctx.config);
    return encoder(ctx, enc_cfg);
  }
  std::vector<GraphOutput> build_decoder_graph(BuildContext& ctx) const override {
    const auto [enc_cfg, dec_cfg] = configs(ctx.config);
    return decoder(ctx, enc_cfg, dec_cfg);
  }

 private:
  // config.json "encoder" / "decoder", checked to be a ViT / DeiT encoder and a GPT-2 decoder.
  static std::pair<config::PretrainedConfig, config::PretrainedConfig> configs(const config::PretrainedConfig& c) {
    config::PretrainedConfig enc_cfg = nested_config(c, "encoder");
    config::PretrainedConfig dec_cfg = nested_config(c, "decoder");
    const std::string enc_type = enc_cfg.model_type(), dec_type = dec_cfg.model_type();
    if (enc_type != "vit" && enc_type != "deit")
      throw UnsupportedError(c.source() + ": encoder model_type '" + enc_type +
                             "' is not supported by the vision-encoder-decoder export (supported: vit, deit)");
    if (dec_type != "gpt2")
      throw UnsupportedError(c.source() + ": decoder model_type '" + dec_type +
                             "' is not supported by the vision-encoder-decoder export (supported: gpt2)");
    return {std::move(enc_cfg), std::move(dec_cfg)};
  }

  // The encoder's own feature-extraction graph on the "encoder.*" weights.
  static std::vector<GraphOutput> encoder(BuildContext& ctx, const config::PretrainedConfig& enc_cfg) {
    const Architecture* arch = find_architecture(enc_cfg.model_type());
    if (arch == nullptr) throw RuntimeError("internal: no architecture for " + enc_cfg.model_type());
    const Weights w(ctx.w.state_dict(), "encoder");
    BuildContext sub(ctx.g, enc_cfg, w);
    sub.on_progress = ctx.on_progress;
    sub.model_dir = ctx.model_dir;
    for (auto& o : arch->build_graph(sub, "feature-extraction"))
      if (o.name == "last_hidden_state") return {o};
    throw RuntimeError("internal: the " + enc_cfg.model_type() + " encoder has no last_hidden_state");
  }

  static std::vector<GraphOutput> decoder(BuildContext& ctx, const config::PretrainedConfig& enc_cfg,
                                          const config::PretrainedConfig& dec_cfg) {
    auto& g = ctx.g;
    const Weights w(ctx.w.state_dict(), "decoder.transformer", "decoder");
    BuildContext sub(g, dec_cfg, w);
    sub.on_progress = ctx.on_progress;
    sub.decoder = ctx.decoder;
    sub.quantize = ctx.quantize;
    const Gpt2Settings st = gpt2_settings(dec_cfg);
    const std::int64_t enc_hidden = positive_config_int(enc_cfg, {"hidden_size"});

    DecoderGraph dg;
    dg.dims = st.dims();
    dg.with_past = sub.decoder.past_inputs;
    dg.presents = sub.decoder.present_outputs;
    const Dim B = std::string("batch_size");
    const Dim S = dg.with_past ? Dim(std::int64_t{1}) : Dim(std::string("decoder_sequence_length"));
    g.add_input("input_ids", kInt64, {B, S});
    g.add_input("encoder_hidden_states", kFloat, {B, std::string("encoder_sequence_length"), enc_hidden});
    add_past_inputs(sub, dg);
    dg.input_ids = "input_ids";
    decoder_derived_values(sub, dg);

    std::string states = "encoder_hidden_states";
    if (enc_hidden != st.embed) {
      // VisionEncoderDecoderModel.enc_to_dec_proj (when the decoder has no cross_attention_hidden_size).
      if (w.find("enc_to_dec_proj.weight") == nullptr)
        throw UnsupportedError(ctx.config.source() + ": the encoder's hidden_size " + std::to_string(enc_hidden) +
                               " differs from the decoder's n_embd " + std::to_string(st.embed) +
                               " and the checkpoint has no enc_to_dec_proj");
      states = linear(sub, "/enc_to_dec_proj", states, "enc_to_dec_proj", enc_hidden, st.embed);
    }
    const std::string logits = gpt2_logits(sub, dg, st, states);
    std::vector<GraphOutput> out{{"logits", logits, {B, dg.with_past ? Dim(std::string("1")) : S, st.vocab}}};
    if (dg.presents) out.insert(out.end(), dg.presents_out.begin(), dg.presents_out.end());
    return out;
  }
};

}  // namespace

std::unique_ptr<Architecture> make_vision_encoder_decoder_architecture() {
  return std::make_unique<VisionEncoderDecoder>();
}

}  // namespace ortformers::exporters
