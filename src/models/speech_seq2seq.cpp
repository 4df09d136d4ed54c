#include "ortformers/models/speech_seq2seq.hpp"

#include <cmath>

#include "encoder_decoder_graphs.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

ORTModelForSpeechSeq2Seq ORTModelForSpeechSeq2Seq::from_pretrained(const std::string& model_id_or_path,
                                                                   const SpeechSeq2SeqOptions& options) {
  ORTModelForSpeechSeq2Seq m;
  m.load_encoder_decoder(model_id_or_path, options, "automatic-speech-recognition-with-past",
                         "ORTModelForSpeechSeq2Seq");
  if (!m.graphs_->encoder->has_input("input_features"))
    throw UnsupportedError("ORTModelForSpeechSeq2Seq: the encoder " + m.graphs_->encoder_path.string() +
                           " has no 'input_features' input (not a speech encoder)");
  const Json& cfg = m.config().json();
  const std::string source = m.config().source();
  auto int_field = [&](const char* key, std::int64_t fallback) {
    if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
    if (!cfg[key].is_number_integer() || cfg[key].get<std::int64_t>() <= 0)
      throw FileFormatError(source + ": field '" + key + "' must be a positive integer, got " + cfg[key].dump());
    return cfg[key].get<std::int64_t>();
  };
  m.num_mel_bins_ = int_field("num_mel_bins", 80);
  m.max_source_positions_ = int_field("max_source_positions", 1500);
  if (cfg.contains("forced_decoder_ids") && !cfg["forced_decoder_ids"].is_null()) {
    const Json& f = cfg["forced_decoder_ids"];
    auto bad = [&] {
      return FileFormatError(source + ": field 'forced_decoder_ids' must be a list of [index, token id] pairs, got " +
                             f.dump());
    };
    if (!f.is_array()) throw bad();
    std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> ids;
    for (const auto& e : f) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !(e[1].is_null() || e[1].is_number_integer()))
        throw bad();
      ids.emplace_back(e[0].get<std::int64_t>(),
                       e[1].is_null() ? std::nullopt : std::optional<std::int64_t>(e[1].get<std::int64_t>()));
    }
    m.config_forced_decoder_ids_ = std::move(ids);
  }
  return m;
}

TensorMap ORTModelForSpeechSeq2Seq::encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const {
  const std::string what = "ORTModelForSpeechSeq2Seq encoder";
  for (const auto& [name, t] : inputs)
    if (name != "input_features" && name != "attention_mask")
      throw InvalidArgument(what + ": unexpected input '" + name + "' (the encoder takes input_features)");
  auto it = inputs.find("input_features");
  if (it == inputs.end() || !it->second.defined()) throw InvalidArgument(what + ": input_features is required");
  Tensor x = it->second;
  if (x.rank() != 3 || x.dim(0) < 1 || x.dim(1) != num_mel_bins_)
    throw InvalidArgument(what + ": input_features must be [batch, " + std::to_string(num_mel_bins_) +
                          ", frames], got " + shape_to_string(x.shape()));
  const auto expected_frames = 2 * max_source_positions_;
  if (x.dim(2) != expected_frames)
    throw InvalidArgument("Whisper expects the mel input features to be of length " + std::to_string(expected_frames) +
                          ", but found " + std::to_string(x.dim(2)) + ". Make sure to pad the input mel features to " +
                          std::to_string(expected_frames) + ".");
  if (x.dtype() != DType::Float32) {
    if (x.dtype() != DType::Float16 && x.dtype() != DType::Float64)
      throw InvalidArgument(what + ": input_features must be float32, got " + dtype_name(x.dtype()));
    x = x.to(DType::Float32);
  }
  const auto v = x.to_vector<float>();
  for (float f : v)
    if (!std::isfinite(f)) throw InvalidArgument(what + ": input_features contains NaN or infinite values");
  attention_mask = Tensor();  // Whisper's decoders take no encoder_attention_mask
  return TensorMap{{"input_features", x}};
}

Seq2SeqLMOutput ORTModelForSpeechSeq2Seq::forward(const Tensor& input_features, const Tensor& decoder_input_ids,
                                                  const EncoderDecoderCache& past_key_values,
                                                  const EncoderOutput* encoder_outputs) const {
  if (encoder_outputs) return decode(decoder_input_ids, *encoder_outputs, past_key_values);
  return decode(decoder_input_ids, encode(TensorMap{{"input_features", input_features}}), past_key_values);
}

}  // namespace ortformers::models
