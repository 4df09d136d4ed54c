#include "ortformers/preprocessing/feature_extractor.hpp"

#include <cmath>

#include "config_fields.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

using detail::field;

FeatureExtractorConfig FeatureExtractorConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw FileFormatError(source + ": expected a JSON object");
  FeatureExtractorConfig c;
  c.feature_extractor_type = field<std::string>(j, "feature_extractor_type", c.feature_extractor_type, source);
  c.feature_size = field<int>(j, "feature_size", 1, source);
  c.sampling_rate = field<int>(j, "sampling_rate", 16000, source);
  c.padding_value = field<float>(j, "padding_value", 0.0f, source);
  c.do_normalize = field<bool>(j, "do_normalize", true, source);
  c.return_attention_mask = field<bool>(j, "return_attention_mask", false, source);
  c.padding_side = field<std::string>(j, "padding_side", "right", source);
  if (c.sampling_rate <= 0)
    throw FileFormatError(source + ": field 'sampling_rate' must be positive, got " + std::to_string(c.sampling_rate));
  if (c.feature_size != 1)
    throw UnsupportedError(source + ": feature_size " + std::to_string(c.feature_size) +
                           " (only raw-waveform extractors with feature_size 1 are supported)");
  if (c.padding_side != "right" && c.padding_side != "left")
    throw FileFormatError(source + ": field 'padding_side' must be 'right' or 'left', got '" + c.padding_side + "'");
  return c;
}

Wav2Vec2FeatureExtractor Wav2Vec2FeatureExtractor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  return Wav2Vec2FeatureExtractor(FeatureExtractorConfig::from_json(read_json_file(path), path.string()));
}

void Wav2Vec2FeatureExtractor::zero_mean_unit_var_norm(std::span<float> v, std::size_t length, float padding_value) {
  length = std::min(length, v.size());
  if (length > 0) {
    // numpy float32 mean / var (accumulated here in double, rounded to float32 as numpy returns them).
    double sum = 0.0;
    for (std::size_t i = 0; i < length; ++i) sum += v[i];
    const float mean = static_cast<float>(sum / static_cast<double>(length));
    double sq = 0.0;
    for (std::size_t i = 0; i < length; ++i) {
      const float d = v[i] - mean;
      sq += static_cast<double>(d) * d;
    }
    const float var = static_cast<float>(sq / static_cast<double>(length));
    const float denom = static_cast<float>(std::sqrt(static_cast<double>(var) + 1e-7));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = (v[i] - mean) / denom;
  }
  for (std::size_t i = length; i < v.size(); ++i) v[i] = padding_value;
}

TensorMap Wav2Vec2FeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms,
                                               const AudioFeatureOptions& o) const {
  const auto& c = config_;
  if (o.sampling_rate && *o.sampling_rate != c.sampling_rate)
    throw InvalidArgument("the feature extractor expects audio sampled at " + std::to_string(c.sampling_rate) +
                          " Hz, not " + std::to_string(*o.sampling_rate) + " Hz (resample it first)");
  if (waveforms.empty()) throw InvalidArgument("feature extractor: no waveform given");
  std::size_t longest = 0;
  for (const auto& w : waveforms) {
    if (w.empty()) throw InvalidArgument("feature extractor: a waveform has no samples (zero-length audio)");
    for (float s : w)
      if (!std::isfinite(s)) throw InvalidArgument("feature extractor: a waveform contains NaN or infinite samples");
    longest = std::max(longest, w.size());
  }
  const std::string& padding = o.padding;
  const bool do_not_pad = padding == "false" || padding == "do_not_pad";
  if (!do_not_pad && padding != "longest" && padding != "true" && padding != "max_length")
    throw InvalidArgument("feature extractor: unknown padding '" + padding + "' (true, longest, max_length, false)");
  std::size_t target = longest;
  if (padding == "max_length" || (o.truncation && o.max_length)) {
    if (!o.max_length) throw InvalidArgument("feature extractor: padding='max_length' needs max_length");
    if (*o.max_length <= 0) throw InvalidArgument("feature extractor: max_length must be positive");
    if (padding == "max_length" || o.truncation) target = static_cast<std::size_t>(*o.max_length);
    if (padding != "max_length") target = std::min(target, longest);
  }
  if (!do_not_pad && o.pad_to_multiple_of && *o.pad_to_multiple_of > 0) {
    const auto m = static_cast<std::size_t>(*o.pad_to_multiple_of);
    target = (target + m - 1) / m * m;
  }
  if (do_not_pad) {
    for (const auto& w : waveforms)
      if (w.size() != waveforms[0].size() && !o.truncation)
        throw InvalidArgument("feature extractor: waveforms of different lengths need padding");
  }
  const bool want_mask = o.return_attention_mask.value_or(c.return_attention_mask);
  const std::size_t N = waveforms.size();
  std::vector<float> values(N * target, c.padding_value);
  std::vector<std::int64_t> mask(N * target, 0);
  std::vector<std::size_t> lengths(N);
  for (std::size_t b = 0; b < N; ++b) {
    const auto& w = waveforms[b];
    const std::size_t len = std::min(w.size(), target);
    lengths[b] = len;
    const std::size_t off = c.padding_side == "left" ? target - len : 0;
    std::copy(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(len), values.begin() + b * target + off);
    std::fill(mask.begin() + b * target + off, mask.begin() + b * target + off + len, 1);
  }
  if (c.do_normalize) {
    for (std::size_t b = 0; b < N; ++b) {
      std::span<float> row(values.data() + b * target, target);
      // With an attention mask (and padding) the statistics cover the real samples only and padded positions are
      // set to padding_value; without one, the padding counts (transformers' behaviour for base checkpoints).
      if (want_mask && !do_not_pad && c.padding_side == "right")
        zero_mean_unit_var_norm(row, lengths[b], c.padding_value);
      else
        zero_mean_unit_var_norm(row, target, c.padding_value);
    }
  }
  TensorMap out;
  const auto T = static_cast<std::int64_t>(target), B = static_cast<std::int64_t>(N);
  out["input_values"] = Tensor::from_vector(std::move(values), {B, T});
  if (want_mask) out["attention_mask"] = Tensor::from_vector(std::move(mask), {B, T});
  return out;
}

}  // namespace ortformers::preprocessing
