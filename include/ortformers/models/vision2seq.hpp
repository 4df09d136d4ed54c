#pragma once
// optimum's image-to-text classes on the encoder-decoder core (encoder_decoder.hpp), exported with
// image-to-text(-with-past): encoder_model.onnx + the decoder(s) chosen as optimum 1.17 does.
//   ORTModelForVision2Seq  VisionEncoderDecoderModel (ViT / DeiT / Swin encoder + GPT-2 / TrOCR / BERT decoder):
//                          pixel_values [batch, 3, H, W] -> last_hidden_state; GPT-2-style decoders take
//                          encoder_hidden_states at every step and cache self-attention only.
//   ORTModelForPix2Struct  Pix2StructForConditionalGeneration: flattened_patches [batch, patches, 2 + p_h * p_w * 3]
//                          + attention_mask (the processor's float mask; the graphs take int64) -> last_hidden_state;
//                          the decoder takes the patch mask and decoder_attention_mask and caches cross-attention.
// generation::generate(model, {{"pixel_values", ...}}, config) (or flattened_patches + attention_mask) starts from
// decoder_start_token_id.
#include <string>

#include "ortformers/models/encoder_decoder.hpp"

namespace ortformers::models {

using Vision2SeqOptions = EncoderDecoderOptions;

class ORTModelForVision2Seq : public ORTModelForConditionalGeneration {
 public:
  static ORTModelForVision2Seq from_pretrained(const std::string& model_id_or_path,
                                               const Vision2SeqOptions& options = {});

  // optimum's forward: the encoder on pixel_values (float32 [batch, 3, H, W]) unless encoder_outputs is given, then
  // the decoder on decoder_input_ids with past_key_values (empty = the first step).
  Seq2SeqLMOutput forward(const Tensor& pixel_values, const Tensor& decoder_input_ids,
                          const EncoderDecoderCache& past_key_values = {},
                          const EncoderOutput* encoder_outputs = nullptr) const;
  Seq2SeqLMOutput operator()(const Tensor& pixel_values, const Tensor& decoder_input_ids,
                             const EncoderDecoderCache& past_key_values = {},
                             const EncoderOutput* encoder_outputs = nullptr) const {
    return forward(pixel_values, decoder_input_ids, past_key_values, encoder_outputs);
  }

 protected:
  // pixel_values: float32 (float64 / float16 converted) of rank 4 with the graph's channel count and, where the
  // graph fixes them, its height and width.
  TensorMap encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const override;
};

class ORTModelForPix2Struct : public ORTModelForConditionalGeneration {
 public:
  static ORTModelForPix2Struct from_pretrained(const std::string& model_id_or_path,
                                               const Vision2SeqOptions& options = {});

  // optimum's forward: the encoder on flattened_patches + attention_mask (undefined = ones; float / int / bool)
  // unless encoder_outputs is given, then the decoder on decoder_input_ids with decoder_attention_mask (undefined =
  // ones over past + new tokens) and past_key_values.
  Seq2SeqLMOutput forward(const Tensor& flattened_patches, const Tensor& attention_mask,
                          const Tensor& decoder_input_ids, const Tensor& decoder_attention_mask = {},
                          const EncoderDecoderCache& past_key_values = {},
                          const EncoderOutput* encoder_outputs = nullptr) const;

 protected:
  TensorMap encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const override;
};

}  // namespace ortformers::models
