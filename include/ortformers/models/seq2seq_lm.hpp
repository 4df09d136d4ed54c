#pragma once
// optimum's ORTModelForSeq2SeqLM: a text encoder-decoder (T5, BART, Marian, mBART, ...) exported with
// text2text-generation(-with-past): encoder_model.onnx (input_ids + attention_mask -> last_hidden_state) and the
// decoder(s) chosen as optimum 1.17 does (see encoder_decoder.hpp). generation::generate() drives it through
// GenerativeModel (start() runs the encoder once; the DecoderStep keeps the cross-attention key/values).
#include <string>

#include "ortformers/models/encoder_decoder.hpp"

namespace ortformers::models {

using Seq2SeqLMOptions = EncoderDecoderOptions;

class ORTModelForSeq2SeqLM : public ORTModelForConditionalGeneration {
 public:
  static ORTModelForSeq2SeqLM from_pretrained(const std::string& model_id_or_path,
                                              const Seq2SeqLMOptions& options = {});

  // optimum's forward: the encoder on input_ids [batch, seq] + attention_mask (undefined = ones), unless
  // encoder_outputs is given (then input_ids may be undefined); then the decoder on decoder_input_ids with
  // past_key_values (empty = first step: the presents then include the cross-attention key/values).
  Seq2SeqLMOutput forward(const Tensor& input_ids, const Tensor& attention_mask, const Tensor& decoder_input_ids,
                          const EncoderDecoderCache& past_key_values = {},
                          const EncoderOutput* encoder_outputs = nullptr) const;
  Seq2SeqLMOutput operator()(const Tensor& input_ids, const Tensor& attention_mask, const Tensor& decoder_input_ids,
                             const EncoderDecoderCache& past_key_values = {},
                             const EncoderOutput* encoder_outputs = nullptr) const {
    return forward(input_ids, attention_mask, decoder_input_ids, past_key_values, encoder_outputs);
  }

 protected:
  // input_ids (int64 / int32, ids within the vocabulary) and attention_mask (default ones, same shape).
  TensorMap encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const override;
};

}  // namespace ortformers::models
