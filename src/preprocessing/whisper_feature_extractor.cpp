#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "config_fields.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"

namespace ortformers::preprocessing {

namespace {

using detail::field;
using cd = std::complex<double>;

// Slaney's mel scale (transformers' hertz_to_mel / mel_to_hertz with mel_scale="slaney").
double hertz_to_mel(double f) {
  constexpr double min_log_hertz = 1000.0, min_log_mel = 15.0;
  const double logstep = 27.0 / std::log(6.4);
  if (f >= min_log_hertz) return min_log_mel + std::log(f / min_log_hertz) * logstep;
  return 3.0 * f / 200.0;
}
double mel_to_hertz(double m) {
  constexpr double min_log_hertz = 1000.0, min_log_mel = 15.0;
  const double logstep = std::log(6.4) / 27.0;
  if (m >= min_log_mel) return min_log_hertz * std::exp(logstep * (m - min_log_mel));
  return 200.0 * m / 3.0;
}

// numpy.linspace(start, stop, num) (endpoint included).
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> v(static_cast<std::size_t>(num));
  const double step = num > 1 ? (stop - start) / (num - 1) : 0.0;
  for (int i = 0; i < num; ++i) v[i] = static_cast<double>(i) * step + start;
  if (num > 1) v.back() = stop;
  return v;
}

// transformers' mel_filter_bank(num_frequency_bins, num_mel_filters, 0, max_frequency, sampling_rate, norm="slaney",
// mel_scale="slaney"): [num_frequency_bins, num_mel_filters].
std::vector<double> slaney_mel_filters(int num_frequency_bins, int num_mel_filters, double max_frequency,
                                       int sampling_rate) {
  const auto mel_freqs = linspace(hertz_to_mel(0.0), hertz_to_mel(max_frequency), num_mel_filters + 2);
  std::vector<double> filter_freqs(mel_freqs.size());
  for (std::size_t i = 0; i < mel_freqs.size(); ++i) filter_freqs[i] = mel_to_hertz(mel_freqs[i]);
  const auto fft_freqs = linspace(0.0, static_cast<double>(sampling_rate / 2), num_frequency_bins);
  std::vector<double> out(static_cast<std::size_t>(num_frequency_bins) * num_mel_filters);
  for (int k = 0; k < num_frequency_bins; ++k)
    for (int m = 0; m < num_mel_filters; ++m) {
      const double down = -(filter_freqs[m] - fft_freqs[k]) / (filter_freqs[m + 1] - filter_freqs[m]);
      const double up = (filter_freqs[m + 2] - fft_freqs[k]) / (filter_freqs[m + 2] - filter_freqs[m + 1]);
      const double enorm = 2.0 / (filter_freqs[m + 2] - filter_freqs[m]);
      out[static_cast<std::size_t>(k) * num_mel_filters + m] = std::max(0.0, std::min(down, up)) * enorm;
    }
  return out;
}

// Mixed-radix decimation-in-time DFT of n points (any n; fast for n with small factors such as 400 = 2^4 * 5^2).
// `tw` holds exp(-2 pi i j / N) for the full size N; n divides N.
void dft(const cd* in, std::size_t stride, std::size_t n, cd* out, const std::vector<cd>& tw) {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  std::size_t p = 2;
  while (p * p <= n && n % p != 0) ++p;
  if (n % p != 0) p = n;
  const std::size_t m = n / p;
  for (std::size_t r = 0; r < p; ++r) dft(in + r * stride, stride * p, m, out + r * m, tw);
  const std::size_t N = tw.size(), scale = N / n;
  cd t[64];
  std::vector<cd> big;
  cd* y = t;
  if (p > 64) {
    big.resize(p);
    y = big.data();
  }
  for (std::size_t k = 0; k < m; ++k) {
    for (std::size_t r = 0; r < p; ++r) y[r] = out[r * m + k];
    for (std::size_t q = 0; q < p; ++q) {
      const std::size_t j = k + q * m;
      cd s = y[0];
      for (std::size_t r = 1; r < p; ++r) s += y[r] * tw[((r * j) % n) * scale];
      out[j] = s;
    }
  }
}

}  // namespace

WhisperFeatureExtractorConfig WhisperFeatureExtractorConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw FileFormatError(source + ": expected a JSON object");
  WhisperFeatureExtractorConfig c;
  c.feature_size = field<int>(j, "feature_size", c.feature_size, source);
  c.sampling_rate = field<int>(j, "sampling_rate", c.sampling_rate, source);
  c.hop_length = field<int>(j, "hop_length", c.hop_length, source);
  c.chunk_length = field<int>(j, "chunk_length", c.chunk_length, source);
  c.n_fft = field<int>(j, "n_fft", c.n_fft, source);
  c.padding_value = field<float>(j, "padding_value", c.padding_value, source);
  c.return_attention_mask = field<bool>(j, "return_attention_mask", c.return_attention_mask, source);
  auto positive = [&](const char* name, int v) {
    if (v <= 0) throw FileFormatError(source + ": field '" + name + "' must be positive, got " + std::to_string(v));
  };
  positive("feature_size", c.feature_size);
  positive("sampling_rate", c.sampling_rate);
  positive("hop_length", c.hop_length);
  positive("chunk_length", c.chunk_length);
  positive("n_fft", c.n_fft);
  if (c.n_fft < 2 || c.n_fft > (1 << 16))
    throw FileFormatError(source + ": field 'n_fft' must be in [2, 65536], got " + std::to_string(c.n_fft));
  if (c.feature_size > 4096)
    throw FileFormatError(source + ": field 'feature_size' is too large: " + std::to_string(c.feature_size));
  return c;
}

WhisperFeatureExtractor::WhisperFeatureExtractor(WhisperFeatureExtractorConfig config) : config_(config) {
  mel_filters_ = slaney_mel_filters(1 + config_.n_fft / 2, config_.feature_size, 8000.0, config_.sampling_rate);
  // window_function(n_fft, "hann"), periodic: numpy.hanning(n_fft + 1)[:-1].
  window_.resize(static_cast<std::size_t>(config_.n_fft));
  for (int i = 0; i < config_.n_fft; ++i)
    window_[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / static_cast<double>(config_.n_fft));
}

WhisperFeatureExtractor WhisperFeatureExtractor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  return WhisperFeatureExtractor(WhisperFeatureExtractorConfig::from_json(read_json_file(path), path.string()));
}

std::vector<float> WhisperFeatureExtractor::extract_fbank_features(const std::vector<float>& waveform,
                                                                   std::int64_t* frames_out) const {
  const auto n = static_cast<std::int64_t>(waveform.size());
  const std::int64_t n_fft = config_.n_fft, hop = config_.hop_length, half = n_fft / 2;
  const int bins = config_.feature_size;
  const std::int64_t freq_bins = n_fft / 2 + 1;
  // Centred frames (reflect padding by n_fft / 2 on both sides); the last frame is dropped.
  const std::int64_t padded_len = n + 2 * half;
  const std::int64_t num_frames = padded_len >= n_fft ? 1 + (padded_len - n_fft) / hop : 0;
  const std::int64_t frames = num_frames - 1;
  if (frames <= 0 || n < 2)
    throw InvalidArgument("WhisperFeatureExtractor: " + std::to_string(n) + " samples are too few for one " +
                          std::to_string(hop) + "-sample frame");
  auto sample = [&](std::int64_t i) -> double {  // numpy.pad(mode="reflect") index i - half
    i -= half;
    while (i < 0 || i >= n) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
    }
    return static_cast<double>(waveform[static_cast<std::size_t>(i)]);
  };
  std::vector<cd> tw(static_cast<std::size_t>(n_fft));
  for (std::int64_t j = 0; j < n_fft; ++j)
    tw[j] = std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(n_fft));
  std::vector<cd> buf(static_cast<std::size_t>(n_fft)), spec(static_cast<std::size_t>(n_fft));
  std::vector<double> power(static_cast<std::size_t>(freq_bins));
  std::vector<double> logmel(static_cast<std::size_t>(bins) * frames);
  for (std::int64_t f = 0; f < frames; ++f) {
    const std::int64_t start = f * hop;
    for (std::int64_t i = 0; i < n_fft; ++i) buf[i] = sample(start + i) * window_[i];
    dft(buf.data(), 1, static_cast<std::size_t>(n_fft), spec.data(), tw);
    for (std::int64_t k = 0; k < freq_bins; ++k) {
      // numpy keeps the STFT as complex64, then takes |.| ** 2 in float64.
      const double re = static_cast<float>(spec[k].real()), im = static_cast<float>(spec[k].imag());
      const double mag = std::hypot(re, im);
      power[k] = mag * mag;
    }
    for (int m = 0; m < bins; ++m) {
      double s = 0.0;
      for (std::int64_t k = 0; k < freq_bins; ++k) s += mel_filters_[static_cast<std::size_t>(k) * bins + m] * power[k];
      logmel[static_cast<std::size_t>(m) * frames + f] = std::log10(std::max(1e-10, s));
    }
  }
  std::vector<float> out(logmel.size());
  float mx = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < logmel.size(); ++i) {
    out[i] = static_cast<float>(logmel[i]);
    mx = std::max(mx, out[i]);
  }
  const auto floor = static_cast<float>(static_cast<double>(mx) - 8.0);
  for (float& v : out) v = (std::max(v, floor) + 4.0f) / 4.0f;
  *frames_out = frames;
  return out;
}

TensorMap WhisperFeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms,
                                              const WhisperFeatureOptions& o) const {
  const auto& c = config_;
  if (o.sampling_rate && *o.sampling_rate != c.sampling_rate)
    throw InvalidArgument(
        "The model corresponding to this feature extractor: WhisperFeatureExtractor was trained using a sampling "
        "rate of " +
        std::to_string(c.sampling_rate) + ". Please make sure that the provided `raw_speech` input was sampled with " +
        std::to_string(c.sampling_rate) + " and not " + std::to_string(*o.sampling_rate) + ".");
  if (waveforms.empty()) throw InvalidArgument("WhisperFeatureExtractor: no waveform given");
  std::size_t longest = 0;
  for (const auto& w : waveforms) {
    for (float s : w)
      if (!std::isfinite(s))
        throw InvalidArgument("WhisperFeatureExtractor: a waveform contains NaN or infinite samples");
    longest = std::max(longest, w.size());
  }
  std::size_t target = 0;
  if (o.padding == "max_length") {
    const std::int64_t ml = o.max_length.value_or(c.n_samples());
    if (ml <= 0) throw InvalidArgument("WhisperFeatureExtractor: max_length must be positive");
    target = static_cast<std::size_t>(ml);
    if (!o.truncation && longest > target) target = longest;  // no truncation: rows keep their length
  } else if (o.padding == "longest" || o.padding == "true") {
    target = longest;
    if (o.truncation && o.max_length && *o.max_length > 0)
      target = std::min(target, static_cast<std::size_t>(*o.max_length));
  } else {
    throw InvalidArgument("WhisperFeatureExtractor: unknown padding '" + o.padding + "' (max_length, longest)");
  }
  std::vector<float> values;
  std::int64_t frames = 0;
  for (const auto& w : waveforms) {
    std::vector<float> padded(target, c.padding_value);
    const std::size_t len = std::min(w.size(), target);
    std::copy(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(len), padded.begin());
    if (o.do_normalize) Wav2Vec2FeatureExtractor::zero_mean_unit_var_norm(padded, len, c.padding_value);
    std::int64_t f = 0;
    auto feats = extract_fbank_features(padded, &f);
    frames = f;
    values.insert(values.end(), feats.begin(), feats.end());
  }
  TensorMap out;
  out["input_features"] =
      Tensor::from_vector(std::move(values), {static_cast<std::int64_t>(waveforms.size()), c.feature_size, frames});
  return out;
}

}  // namespace ortformers::preprocessing
