#pragma once
// ASTFeatureExtractor (Audio Spectrogram Transformer, preprocessor_config.json): Kaldi-compatible log mel filter
// banks as torchaudio.compliance.kaldi.fbank computes them, zero-padded or cut to max_length frames, then
// (fbank - mean) / (2 * std). `kaldi_fbank` is the filter-bank function itself with Kaldi's options.
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::preprocessing {

// The options of torchaudio.compliance.kaldi.fbank that matter without dither, VTLN or energy.
struct KaldiFbankOptions {
  double sample_frequency = 16000.0;
  double frame_length_ms = 25.0;
  double frame_shift_ms = 10.0;
  int num_mel_bins = 23;
  double low_freq = 20.0;
  double high_freq = 0.0;  // <= 0: offset from the Nyquist frequency
  double preemphasis_coefficient = 0.97;
  bool remove_dc_offset = true;
  bool round_to_power_of_two = true;
  bool snip_edges = true;
  bool use_power = true;
  bool use_log_fbank = true;
  std::string window_type = "povey";  // povey, hanning, hamming, rectangular, blackman
  double blackman_coeff = 0.42;
};

// Log mel filter banks [frames, num_mel_bins] (row-major) of a mono waveform, as torchaudio's kaldi.fbank with
// dither 0 and use_energy false, in float32 like torchaudio on a float32 waveform (FFT and filter-bank sums in
// double). frames = 1 + (n - window) / shift (snip_edges). InvalidArgument when the waveform is shorter than one
// window (torchaudio's assertion) or the options are out of range.
std::vector<float> kaldi_fbank(std::span<const float> waveform, const KaldiFbankOptions& options, std::int64_t* frames);

struct ASTFeatureExtractorConfig {
  int sampling_rate = 16000;
  int num_mel_bins = 128;
  int max_length = 1024;
  bool do_normalize = true;
  float mean = -4.2677393f;
  float std = 4.5689974f;

  static ASTFeatureExtractorConfig from_json(const Json& j, const std::string& source = "preprocessor_config.json");
};

class ASTFeatureExtractor {
 public:
  ASTFeatureExtractor() = default;
  explicit ASTFeatureExtractor(ASTFeatureExtractorConfig config) : config_(config) {}
  static ASTFeatureExtractor from_pretrained(const std::filesystem::path& dir_or_file);
  const ASTFeatureExtractorConfig& config() const noexcept { return config_; }
  int sampling_rate() const noexcept { return config_.sampling_rate; }

  // Mono waveforms at sampling_rate() -> {"input_values": float32 [N, max_length, num_mel_bins]}: each waveform's
  // fbank (hanning window, htk_compat, 10 ms shift) padded with zeros or cut to max_length frames on its own, then
  // normalised.
  TensorMap operator()(const std::vector<std::vector<float>>& waveforms) const;
  TensorMap operator()(const std::vector<float>& waveform) const {
    return (*this)(std::vector<std::vector<float>>{waveform});
  }

 private:
  ASTFeatureExtractorConfig config_;
};

}  // namespace ortformers::preprocessing
