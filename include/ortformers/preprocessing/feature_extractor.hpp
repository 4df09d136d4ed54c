#pragma once
// Wav2Vec2FeatureExtractor (preprocessor_config.json): zero-mean unit-variance normalisation, padding and the
// attention mask, exactly as transformers computes them.
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::preprocessing {

struct FeatureExtractorConfig {
  std::string feature_extractor_type = "Wav2Vec2FeatureExtractor";
  int feature_size = 1;
  int sampling_rate = 16000;
  float padding_value = 0.0f;
  bool do_normalize = true;
  bool return_attention_mask = false;
  std::string padding_side = "right";

  static FeatureExtractorConfig from_json(const Json& j, const std::string& source = "preprocessor_config.json");
};

struct AudioFeatureOptions {
  // transformers' padding: false ("do_not_pad": every waveform must then have the same length in a batch),
  // true / "longest", or "max_length" (with max_length).
  std::string padding = "longest";
  std::optional<std::int64_t> max_length;
  bool truncation = false;
  std::optional<std::int64_t> pad_to_multiple_of;
  std::optional<bool> return_attention_mask;  // default: the config's return_attention_mask
  // The rate the waveforms are sampled at; InvalidArgument when it differs from the extractor's (as transformers).
  std::optional<int> sampling_rate;
};

class Wav2Vec2FeatureExtractor {
 public:
  Wav2Vec2FeatureExtractor() = default;
  explicit Wav2Vec2FeatureExtractor(FeatureExtractorConfig config) : config_(std::move(config)) {}
  static Wav2Vec2FeatureExtractor from_pretrained(const std::filesystem::path& dir_or_file);
  const FeatureExtractorConfig& config() const noexcept { return config_; }
  int sampling_rate() const noexcept { return config_.sampling_rate; }

  // Mono waveforms → {"input_values": float32 [N, T], "attention_mask": int64 [N, T] when requested}.
  TensorMap operator()(const std::vector<std::vector<float>>& waveforms, const AudioFeatureOptions& options = {}) const;
  TensorMap operator()(const std::vector<float>& waveform, const AudioFeatureOptions& options = {}) const {
    return (*this)(std::vector<std::vector<float>>{waveform}, options);
  }

  // (x - mean) / sqrt(var + 1e-7) over the first `length` samples (float32 result, population variance);
  // samples from `length` on become padding_value.
  static void zero_mean_unit_var_norm(std::span<float> values, std::size_t length, float padding_value);

 private:
  FeatureExtractorConfig config_;
};

}  // namespace ortformers::preprocessing
