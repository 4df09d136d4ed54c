#pragma once
// AutoFeatureExtractor for the audio pipelines: the extractor preprocessor_config.json names
// (feature_extractor_type): ASTFeatureExtractor (log mel filter banks), WhisperFeatureExtractor (log-mel
// spectrograms, "input_features") or Wav2Vec2FeatureExtractor (raw waveform; also the default when the field is
// absent).
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/preprocessing/ast_feature_extractor.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

namespace ortformers::preprocessing {

class AudioFeatureExtractor {
 public:
  explicit AudioFeatureExtractor(Wav2Vec2FeatureExtractor fe) : impl_(std::move(fe)) {}
  explicit AudioFeatureExtractor(ASTFeatureExtractor fe) : impl_(std::move(fe)) {}
  explicit AudioFeatureExtractor(WhisperFeatureExtractor fe) : impl_(std::move(fe)) {}
  // <dir>/preprocessor_config.json (or the file itself).
  static AudioFeatureExtractor from_pretrained(const std::filesystem::path& dir_or_file);

  int sampling_rate() const noexcept;
  // "Wav2Vec2FeatureExtractor", "ASTFeatureExtractor" or "WhisperFeatureExtractor".
  std::string type() const;
  // Mono waveforms at sampling_rate() -> the model inputs ("input_values", and "attention_mask" when the
  // Wav2Vec2 extractor is configured to return one; Whisper: "input_features"), with the extractor's default options.
  TensorMap operator()(const std::vector<std::vector<float>>& waveforms) const;
  TensorMap operator()(const std::vector<float>& waveform) const {
    return (*this)(std::vector<std::vector<float>>{waveform});
  }
  // The concrete extractor, or nullptr.
  const Wav2Vec2FeatureExtractor* wav2vec2() const noexcept { return std::get_if<Wav2Vec2FeatureExtractor>(&impl_); }
  const ASTFeatureExtractor* ast() const noexcept { return std::get_if<ASTFeatureExtractor>(&impl_); }
  const WhisperFeatureExtractor* whisper() const noexcept { return std::get_if<WhisperFeatureExtractor>(&impl_); }

 private:
  std::variant<Wav2Vec2FeatureExtractor, ASTFeatureExtractor, WhisperFeatureExtractor> impl_;
};

}  // namespace ortformers::preprocessing
