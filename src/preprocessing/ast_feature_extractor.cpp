#include "ortformers/preprocessing/ast_feature_extractor.hpp"

#include <cmath>
#include <complex>
#include <numbers>

#include "config_fields.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

namespace {

using detail::field;

// torch.hamming_window(n, periodic=False, alpha, beta) in float32: arange * (2 pi / (n - 1)), cos, * -beta, + alpha.
std::vector<float> hamming(int n, float alpha, float beta) {
  std::vector<float> w(static_cast<std::size_t>(n), 1.0f);
  if (n == 1) return w;
  const auto step = static_cast<float>(std::numbers::pi * 2.0 / static_cast<double>(n - 1));
  for (int i = 0; i < n; ++i) w[i] = std::cos(static_cast<float>(i) * step) * -beta + alpha;
  return w;
}

// torchaudio's _feature_window_function.
std::vector<float> window_function(const std::string& type, int n, double blackman_coeff) {
  if (type == "hanning") return hamming(n, 0.5f, 0.5f);
  if (type == "hamming") return hamming(n, 0.54f, 0.46f);
  if (type == "povey") {
    auto w = hamming(n, 0.5f, 0.5f);
    for (float& v : w) v = std::pow(v, 0.85f);
    return w;
  }
  if (type == "rectangular") return std::vector<float>(static_cast<std::size_t>(n), 1.0f);
  if (type == "blackman") {
    const auto a = static_cast<float>(2.0 * std::numbers::pi / (n - 1));
    const auto c = static_cast<float>(blackman_coeff), c2 = static_cast<float>(0.5 - blackman_coeff);
    std::vector<float> w(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto x = static_cast<float>(i);
      w[i] = c - 0.5f * std::cos(a * x) + c2 * std::cos(2.0f * a * x);
    }
    return w;
  }
  throw InvalidArgument("kaldi fbank: unknown window_type '" + type +
                        "' (povey, hanning, hamming, rectangular, blackman)");
}

// Kaldi's mel scale: 1127 ln(1 + f / 700); float32 for tensors, double for scalars (as torchaudio).
float mel_scale(float f) {
  return 1127.0f * std::log(1.0f + f / 700.0f);
}
double mel_scale_scalar(double f) {
  return 1127.0 * std::log(1.0 + f / 700.0);
}

// torchaudio's get_mel_banks without VTLN: [bins, fft_bins] triangular filters on the mel scale, in float32.
std::vector<float> mel_banks(int bins, int padded, double sample_freq, double low, double high) {
  const int fft_bins = padded / 2;
  const double nyquist = 0.5 * sample_freq;
  if (high <= 0.0) high += nyquist;
  if (!(low >= 0.0 && low < nyquist && high > 0.0 && high <= nyquist && high > low))
    throw InvalidArgument("kaldi fbank: bad low_freq / high_freq " + std::to_string(low) + " / " +
                          std::to_string(high) + " for sample frequency " + std::to_string(sample_freq));
  const auto bin_width = static_cast<float>(sample_freq / padded);
  const double mel_low = mel_scale_scalar(low), mel_high = mel_scale_scalar(high);
  const auto delta = static_cast<float>((mel_high - mel_low) / (bins + 1));
  const auto low_f = static_cast<float>(mel_low);
  std::vector<float> mel(static_cast<std::size_t>(fft_bins));
  for (int k = 0; k < fft_bins; ++k) mel[k] = mel_scale(bin_width * static_cast<float>(k));
  std::vector<float> out(static_cast<std::size_t>(bins) * fft_bins);
  for (int b = 0; b < bins; ++b) {
    const float left = low_f + static_cast<float>(b) * delta;
    const float center = low_f + static_cast<float>(b + 1) * delta;
    const float right = low_f + static_cast<float>(b + 2) * delta;
    for (int k = 0; k < fft_bins; ++k) {
      const float up = (mel[k] - left) / (center - left);
      const float down = (right - mel[k]) / (right - center);
      out[static_cast<std::size_t>(b) * fft_bins + k] = std::max(0.0f, std::min(up, down));
    }
  }
  return out;
}

// In-place iterative radix-2 FFT (n a power of two).
void fft(std::vector<std::complex<double>>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * std::numbers::pi / static_cast<double>(len);
    for (std::size_t i = 0; i < n; i += len)
      for (std::size_t k = 0; k < len / 2; ++k) {
        const std::complex<double> w = std::polar(1.0, ang * static_cast<double>(k));
        const auto u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
  }
}

// |rfft(x)|^2 for bins 0..n/2 (direct DFT when n is not a power of two).
std::vector<float> power_spectrum(const std::vector<float>& x) {
  const std::size_t n = x.size();
  std::vector<float> p(n / 2 + 1);
  if ((n & (n - 1)) == 0) {
    std::vector<std::complex<double>> a(x.begin(), x.end());
    fft(a);
    for (std::size_t k = 0; k <= n / 2; ++k) {
      const auto m = static_cast<float>(std::abs(a[k]));
      p[k] = m * m;
    }
    return p;
  }
  for (std::size_t k = 0; k <= n / 2; ++k) {
    std::complex<double> s = 0;
    for (std::size_t t = 0; t < n; ++t)
      s += static_cast<double>(x[t]) *
           std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>((k * t) % n) / static_cast<double>(n));
    const auto m = static_cast<float>(std::abs(s));
    p[k] = m * m;
  }
  return p;
}

}  // namespace

std::vector<float> kaldi_fbank(std::span<const float> waveform, const KaldiFbankOptions& o, std::int64_t* frames) {
  if (!(o.sample_frequency > 0.0) || !(o.frame_shift_ms > 0.0) || !(o.frame_length_ms > 0.0))
    throw InvalidArgument("kaldi fbank: sample_frequency, frame_length and frame_shift must be positive");
  if (o.num_mel_bins <= 3) throw InvalidArgument("kaldi fbank: num_mel_bins must be greater than 3");
  const auto shift = static_cast<std::int64_t>(o.sample_frequency * o.frame_shift_ms * 0.001);
  const auto size = static_cast<std::int64_t>(o.sample_frequency * o.frame_length_ms * 0.001);
  std::int64_t padded = size;
  if (o.round_to_power_of_two) {
    padded = 1;
    while (padded < size) padded *= 2;
  }
  const auto n = static_cast<std::int64_t>(waveform.size());
  if (size < 2 || size > n)
    throw InvalidArgument("kaldi fbank: the waveform has " + std::to_string(n) + " samples, fewer than one " +
                          std::to_string(size) + "-sample window (" + std::to_string(o.frame_length_ms) + " ms)");
  if (shift <= 0) throw InvalidArgument("kaldi fbank: frame shift of zero samples");
  if (padded % 2 != 0) throw InvalidArgument("kaldi fbank: the padded window size must be even");
  if (!o.snip_edges) throw UnsupportedError("kaldi fbank: snip_edges=false is not implemented");
  const std::int64_t m = 1 + (n - size) / shift;
  const auto window = window_function(o.window_type, static_cast<int>(size), o.blackman_coeff);
  const int bins = o.num_mel_bins, fft_bins = static_cast<int>(padded / 2);
  const auto banks = mel_banks(bins, static_cast<int>(padded), o.sample_frequency, o.low_freq, o.high_freq);
  const auto pre = static_cast<float>(o.preemphasis_coefficient);
  const float eps = std::numeric_limits<float>::epsilon();
  std::vector<float> out(static_cast<std::size_t>(m) * bins);
  std::vector<float> frame(static_cast<std::size_t>(padded));
  for (std::int64_t f = 0; f < m; ++f) {
    const float* src = waveform.data() + f * shift;
    std::fill(frame.begin(), frame.end(), 0.0f);
    std::copy(src, src + size, frame.begin());
    if (o.remove_dc_offset) {
      double sum = 0;
      for (std::int64_t i = 0; i < size; ++i) sum += frame[i];
      const auto mean = static_cast<float>(sum / static_cast<double>(size));
      for (std::int64_t i = 0; i < size; ++i) frame[i] -= mean;
    }
    if (pre != 0.0f) {
      // x[i] - pre * x[i - 1], the first sample using itself (replicate padding).
      for (std::int64_t i = size - 1; i > 0; --i) frame[i] -= pre * frame[i - 1];
      frame[0] -= pre * frame[0];
    }
    for (std::int64_t i = 0; i < size; ++i) frame[i] *= window[i];
    auto spec = power_spectrum(frame);
    if (!o.use_power)
      for (float& v : spec) v = std::sqrt(v);
    for (int b = 0; b < bins; ++b) {
      // The banks have fft_bins columns; the Nyquist bin gets a zero weight (torchaudio pads them by one).
      double e = 0;
      const float* row = banks.data() + static_cast<std::size_t>(b) * fft_bins;
      for (int k = 0; k < fft_bins; ++k) e += static_cast<double>(spec[k]) * row[k];
      auto v = static_cast<float>(e);
      if (o.use_log_fbank) v = std::log(std::max(v, eps));
      out[static_cast<std::size_t>(f) * bins + b] = v;
    }
  }
  *frames = m;
  return out;
}

ASTFeatureExtractorConfig ASTFeatureExtractorConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw FileFormatError(source + ": expected a JSON object");
  ASTFeatureExtractorConfig c;
  c.sampling_rate = field<int>(j, "sampling_rate", c.sampling_rate, source);
  c.num_mel_bins = field<int>(j, "num_mel_bins", c.num_mel_bins, source);
  c.max_length = field<int>(j, "max_length", c.max_length, source);
  c.do_normalize = field<bool>(j, "do_normalize", c.do_normalize, source);
  c.mean = field<float>(j, "mean", c.mean, source);
  c.std = field<float>(j, "std", c.std, source);
  if (c.sampling_rate <= 0)
    throw FileFormatError(source + ": field 'sampling_rate' must be positive, got " + std::to_string(c.sampling_rate));
  if (c.num_mel_bins <= 3)
    throw FileFormatError(source + ": field 'num_mel_bins' must be greater than 3, got " +
                          std::to_string(c.num_mel_bins));
  if (c.max_length <= 0)
    throw FileFormatError(source + ": field 'max_length' must be positive, got " + std::to_string(c.max_length));
  if (c.do_normalize && c.std == 0.0f) throw FileFormatError(source + ": field 'std' is 0");
  return c;
}

ASTFeatureExtractor ASTFeatureExtractor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  return ASTFeatureExtractor(ASTFeatureExtractorConfig::from_json(read_json_file(path), path.string()));
}

TensorMap ASTFeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms) const {
  const auto& c = config_;
  if (waveforms.empty()) throw InvalidArgument("ASTFeatureExtractor: no waveform given");
  KaldiFbankOptions o;  // ASTFeatureExtractor._extract_fbank_features
  o.sample_frequency = c.sampling_rate;
  o.num_mel_bins = c.num_mel_bins;
  o.window_type = "hanning";
  o.frame_shift_ms = 10.0;
  const std::size_t per = static_cast<std::size_t>(c.max_length) * c.num_mel_bins;
  std::vector<float> values(waveforms.size() * per, 0.0f);
  for (std::size_t b = 0; b < waveforms.size(); ++b) {
    for (float s : waveforms[b])
      if (!std::isfinite(s)) throw InvalidArgument("ASTFeatureExtractor: a waveform contains NaN or infinite samples");
    std::int64_t frames = 0;
    const auto fb = kaldi_fbank(waveforms[b], o, &frames);
    // Zero rows after the last frame (ZeroPad2d), or the first max_length frames.
    const std::size_t keep = std::min(fb.size(), per);
    std::copy(fb.begin(), fb.begin() + static_cast<std::ptrdiff_t>(keep), values.begin() + b * per);
  }
  if (c.do_normalize) {
    const float mean = c.mean, denom = c.std * 2.0f;
    for (float& v : values) v = (v - mean) / denom;
  }
  TensorMap out;
  out["input_values"] = Tensor::from_vector(
      std::move(values), {static_cast<std::int64_t>(waveforms.size()), c.max_length, c.num_mel_bins});
  return out;
}

}  // namespace ortformers::preprocessing
