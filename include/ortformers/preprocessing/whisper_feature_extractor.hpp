#pragma once
// WhisperFeatureExtractor (preprocessor_config.json): 80-bin log-mel spectrograms as transformers 4.31 computes them:
// each waveform padded with zeros or cut to n_samples (30 s), centred STFT (reflect padding, periodic Hann window of
// n_fft, hop_length), power spectrum, Slaney mel filters (0 - 8 kHz, Slaney norm), log10 with a 1e-10 floor, the last
// frame dropped, clamped to (max - 8) and scaled by (x + 4) / 4. Output "input_features" [batch, feature_size, frames].
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::preprocessing {

struct WhisperFeatureExtractorConfig {
  int feature_size = 80;
  int sampling_rate = 16000;
  int hop_length = 160;
  int chunk_length = 30;
  int n_fft = 400;
  float padding_value = 0.0f;
  bool return_attention_mask = false;
  std::int64_t n_samples() const { return static_cast<std::int64_t>(chunk_length) * sampling_rate; }
  std::int64_t nb_max_frames() const { return n_samples() / hop_length; }

  static WhisperFeatureExtractorConfig from_json(const Json& j, const std::string& source = "preprocessor_config.json");
};

// WhisperFeatureExtractor.__call__'s keyword arguments.
struct WhisperFeatureOptions {
  // The rate the waveforms are sampled at; InvalidArgument with transformers' text when it differs.
  std::optional<int> sampling_rate;
  // "max_length" (default: every waveform padded / cut to max_length, n_samples when unset) or "longest".
  std::string padding = "max_length";
  std::optional<std::int64_t> max_length;
  bool truncation = true;
  // Zero-mean unit-variance normalisation of each waveform before the spectrogram (do_normalize).
  bool do_normalize = false;
};

class WhisperFeatureExtractor {
 public:
  WhisperFeatureExtractor() : WhisperFeatureExtractor(WhisperFeatureExtractorConfig{}) {}
  explicit WhisperFeatureExtractor(WhisperFeatureExtractorConfig config);
  static WhisperFeatureExtractor from_pretrained(const std::filesystem::path& dir_or_file);
  const WhisperFeatureExtractorConfig& config() const noexcept { return config_; }
  int sampling_rate() const noexcept { return config_.sampling_rate; }
  // The filter bank, [n_fft / 2 + 1, feature_size] row-major (transformers' mel_filters).
  const std::vector<double>& mel_filters() const noexcept { return mel_filters_; }

  // Mono waveforms -> {"input_features": float32 [N, feature_size, frames]}. Empty waveforms are allowed (all padding),
  // as in transformers; NaN / infinite samples are InvalidArgument.
  TensorMap operator()(const std::vector<std::vector<float>>& waveforms,
                       const WhisperFeatureOptions& options = {}) const;
  TensorMap operator()(const std::vector<float>& waveform, const WhisperFeatureOptions& options = {}) const {
    return (*this)(std::vector<std::vector<float>>{waveform}, options);
  }

  // The log-mel features [feature_size, frames] of one waveform as it is (no padding): _np_extract_fbank_features.
  std::vector<float> extract_fbank_features(const std::vector<float>& waveform, std::int64_t* frames) const;

 private:
  WhisperFeatureExtractorConfig config_;
  std::vector<double> mel_filters_;
  std::vector<double> window_;
};

}  // namespace ortformers::preprocessing
