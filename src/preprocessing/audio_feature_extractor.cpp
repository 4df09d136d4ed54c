#include "ortformers/preprocessing/audio_feature_extractor.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

AudioFeatureExtractor AudioFeatureExtractor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  const Json j = read_json_file(path);
  const std::string type =
      j.is_object() && j.contains("feature_extractor_type") && j.at("feature_extractor_type").is_string()
          ? j.at("feature_extractor_type").get<std::string>()
          : "";
  if (type == "ASTFeatureExtractor")
    return AudioFeatureExtractor(ASTFeatureExtractor(ASTFeatureExtractorConfig::from_json(j, path.string())));
  if (type == "WhisperFeatureExtractor")
    return AudioFeatureExtractor(WhisperFeatureExtractor(WhisperFeatureExtractorConfig::from_json(j, path.string())));
  return AudioFeatureExtractor(Wav2Vec2FeatureExtractor(FeatureExtractorConfig::from_json(j, path.string())));
}

int AudioFeatureExtractor::sampling_rate() const noexcept {
  return std::visit([](const auto& fe) { return fe.sampling_rate(); }, impl_);
}

std::string AudioFeatureExtractor::type() const {
  if (ast() != nullptr) return "ASTFeatureExtractor";
  return whisper() != nullptr ? "WhisperFeatureExtractor" : "Wav2Vec2FeatureExtractor";
}

TensorMap AudioFeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms) const {
  return std::visit([&](const auto& fe) { return fe(waveforms); }, impl_);
}

}  // namespace ortformers::preprocessing
