#pragma once
// optimum's ORTModelForSpeechSeq2Seq (Whisper): an audio encoder-decoder exported with
// automatic-speech-recognition(-with-past): encoder_model.onnx (input_features [batch, num_mel_bins, 3000] ->
// last_hidden_state) and the decoder(s) chosen as optimum 1.17 does (see encoder_decoder.hpp; Whisper's decoders take
// no encoder_attention_mask). generation::generate() drives it through GenerativeModel; the Whisper arguments
// (language, task, return_timestamps) are generation::generate_whisper's (generation/whisper.hpp).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/models/encoder_decoder.hpp"

namespace ortformers::models {

using SpeechSeq2SeqOptions = EncoderDecoderOptions;

class ORTModelForSpeechSeq2Seq : public ORTModelForConditionalGeneration {
 public:
  static ORTModelForSpeechSeq2Seq from_pretrained(const std::string& model_id_or_path,
                                                  const SpeechSeq2SeqOptions& options = {});

  // optimum's forward: the encoder on input_features [batch, num_mel_bins, frames] (float32), unless encoder_outputs
  // is given; then the decoder on decoder_input_ids with past_key_values (empty = the first step).
  Seq2SeqLMOutput forward(const Tensor& input_features, const Tensor& decoder_input_ids,
                          const EncoderDecoderCache& past_key_values = {},
                          const EncoderOutput* encoder_outputs = nullptr) const;
  Seq2SeqLMOutput operator()(const Tensor& input_features, const Tensor& decoder_input_ids,
                             const EncoderDecoderCache& past_key_values = {},
                             const EncoderOutput* encoder_outputs = nullptr) const {
    return forward(input_features, decoder_input_ids, past_key_values, encoder_outputs);
  }

  // config.json's forced_decoder_ids (nullopt when absent or null): 4.31's Whisper generate gives them precedence.
  const std::optional<std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>>& config_forced_decoder_ids()
      const noexcept {
    return config_forced_decoder_ids_;
  }
  std::int64_t num_mel_bins() const noexcept { return num_mel_bins_; }
  // config.max_source_positions (1500 for Whisper): the ASR pipeline's time_precision is chunk_length / this.
  std::int64_t max_source_positions() const noexcept { return max_source_positions_; }

 protected:
  // input_features: float32 (float16 / float64 converted) [batch, num_mel_bins, frames].
  TensorMap encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const override;

 private:
  std::optional<std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>> config_forced_decoder_ids_;
  std::int64_t num_mel_bins_ = 80;
  std::int64_t max_source_positions_ = 1500;
};

}  // namespace ortformers::models
