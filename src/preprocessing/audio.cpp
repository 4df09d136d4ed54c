// Audio decoding with libsndfile (virtual I/O over a memory buffer), mono mixing and resampling.
#include "ortformers/preprocessing/audio.hpp"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>

#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

namespace {

struct MemoryFile {
  const std::uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
};

sf_count_t vio_get_filelen(void* user) {
  return static_cast<MemoryFile*>(user)->size;
}
sf_count_t vio_seek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : (whence == SEEK_CUR ? f->pos : f->size);
  sf_count_t np = base + offset;
  if (np < 0) np = 0;
  if (np > f->size) np = f->size;
  f->pos = np;
  return f->pos;
}
sf_count_t vio_read(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  if (count < 0) return 0;
  const sf_count_t n = std::min(count, f->size - f->pos);
  if (n > 0) std::memcpy(ptr, f->data + f->pos, static_cast<std::size_t>(n));
  f->pos += std::max<sf_count_t>(n, 0);
  return std::max<sf_count_t>(n, 0);
}
sf_count_t vio_write(const void*, sf_count_t, void*) {
  return 0;
}
sf_count_t vio_tell(void* user) {
  return static_cast<MemoryFile*>(user)->pos;
}

// Upper bound on decoded samples (refuses corrupt headers that claim absurd lengths before allocating).
constexpr sf_count_t kMaxSamples = sf_count_t{1} << 30;

}  // namespace

Audio decode_audio(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.empty()) throw FileFormatError("audio " + source + " is empty (0 bytes)");
  MemoryFile mf{bytes.data(), static_cast<sf_count_t>(bytes.size()), 0};
  SF_VIRTUAL_IO vio{vio_get_filelen, vio_seek, vio_read, vio_write, vio_tell};
  SF_INFO info;
  std::memset(&info, 0, sizeof info);
  SNDFILE* sf = sf_open_virtual(&vio, SFM_READ, &info, &mf);
  if (!sf)
    throw FileFormatError("audio " + source + ": cannot decode (" + sf_strerror(nullptr) +
                          "); supported: WAV, FLAC, OGG/Vorbis, AIFF and the other libsndfile formats");
  struct Closer {
    SNDFILE* s;
    ~Closer() { sf_close(s); }
  } closer{sf};
  if (info.channels <= 0 || info.samplerate <= 0)
    throw FileFormatError("audio " + source + ": invalid header (channels " + std::to_string(info.channels) +
                          ", sampling rate " + std::to_string(info.samplerate) + ")");
  if (info.channels > 1024)
    throw FileFormatError("audio " + source + ": invalid channel count " + std::to_string(info.channels));
  Audio a;
  a.sampling_rate = info.samplerate;
  a.channels = info.channels;
  // Integer PCM read as float is normalised by 2^(bits-1) (libsndfile's default SFC_SET_NORM_FLOAT).
  sf_command(sf, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  // Read in blocks rather than trusting the header's length (a corrupt header may claim far more than the file
  // holds); the decoded length is what the data gives.
  constexpr sf_count_t kBlock = 1 << 16;
  std::vector<float> block(static_cast<std::size_t>(kBlock) * info.channels);
  sf_count_t got = 0;
  while (true) {
    const sf_count_t n = sf_readf_float(sf, block.data(), kBlock);
    if (n <= 0) break;
    got += n;
    if (got > kMaxSamples / info.channels)
      throw FileFormatError("audio " + source + ": too long (over " + std::to_string(kMaxSamples) + " samples)");
    a.samples.insert(a.samples.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(n * info.channels));
  }
  if (sf_error(sf) != SF_ERR_NO_ERROR && got == 0 && info.frames > 0)
    throw FileFormatError("audio " + source + ": corrupt data (" + sf_strerror(sf) + ")");
  for (float v : a.samples)
    if (!std::isfinite(v)) throw FileFormatError("audio " + source + ": contains NaN or infinite samples");
  return a;
}

namespace {
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NotFoundError("audio file not found: " + path.string());
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
}  // namespace

Audio load_audio(const std::filesystem::path& path) {
  return decode_audio(read_file_bytes(path), path.string());
}

std::vector<float> to_mono(const Audio& a) {
  if (a.channels <= 1) return a.samples;
  const std::size_t n = a.samples.size() / a.channels;
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    float s = 0.0f;
    for (int c = 0; c < a.channels; ++c) s += a.samples[i * a.channels + c];
    out[i] = s / static_cast<float>(a.channels);
  }
  return out;
}

namespace {

struct SincKernel {
  int orig = 0, nw = 0, width = 0, ksize = 0;
  std::vector<float> k;  // [nw][ksize]
};

int ceil_width(int orig, int nw, double& base_freq) {
  constexpr double lowpass_filter_width = 6.0, rolloff = 0.99;
  base_freq = std::min(orig, nw) * rolloff;
  return static_cast<int>(std::ceil(lowpass_filter_width * orig / base_freq));
}

// torchaudio.functional._get_sinc_resample_kernel with dtype float32, op by op in float32.
SincKernel make_kernel(int orig, int nw) {
  constexpr float lpw = 6.0f;
  SincKernel s;
  s.orig = orig;
  s.nw = nw;
  double base_freq = 0;
  s.width = ceil_width(orig, nw, base_freq);
  s.ksize = 2 * s.width + orig;
  s.k.resize(static_cast<std::size_t>(nw) * s.ksize);
  const float bf = static_cast<float>(base_freq);
  const float pi = static_cast<float>(M_PI);
  const float scale = static_cast<float>(base_freq / orig);
  for (int p = 0; p < nw; ++p) {
    const float tp = static_cast<float>(-p) / static_cast<float>(nw);
    for (int j = 0; j < s.ksize; ++j) {
      const float idx = static_cast<float>(j - s.width) / static_cast<float>(orig);
      float t = (tp + idx) * bf;
      t = std::min(std::max(t, -lpw), lpw);
      float c = std::cos(t * pi / lpw / 2.0f);
      const float window = c * c;
      t *= pi;
      const float kern = t == 0.0f ? 1.0f : std::sin(t) / t;
      s.k[static_cast<std::size_t>(p) * s.ksize + j] = kern * (window * scale);
    }
  }
  return s;
}

std::vector<float> resample_torchaudio(std::span<const float> x, int orig_freq, int new_freq) {
  const int g = std::gcd(orig_freq, new_freq);
  const int orig = orig_freq / g, nw = new_freq / g;
  const SincKernel s = make_kernel(orig, nw);
  const std::int64_t n = static_cast<std::int64_t>(x.size());
  // conv1d over x padded with `width` zeros on the left and `width + orig` on the right, stride orig.
  const std::int64_t padded = n + 2 * s.width + orig;
  const std::int64_t blocks = (padded - s.ksize) / orig + 1;
  const std::int64_t target = (static_cast<std::int64_t>(nw) * n + orig - 1) / orig;
  std::vector<float> out(static_cast<std::size_t>(std::min<std::int64_t>(target, blocks * nw)));
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t start = b * orig - s.width;  // index in x of kernel tap 0
    for (int p = 0; p < nw; ++p) {
      const std::int64_t o = b * nw + p;
      if (o >= static_cast<std::int64_t>(out.size())) break;
      const float* k = &s.k[static_cast<std::size_t>(p) * s.ksize];
      const std::int64_t j0 = std::max<std::int64_t>(0, -start), j1 = std::min<std::int64_t>(s.ksize, n - start);
      double acc = 0.0;
      for (std::int64_t j = j0; j < j1; ++j) acc += static_cast<double>(k[j]) * x[start + j];
      out[o] = static_cast<float>(acc);
    }
  }
  return out;
}

std::vector<float> resample_soxr(std::span<const float> x, int orig_freq, int new_freq) {
  const std::size_t target = static_cast<std::size_t>(
      (static_cast<std::int64_t>(new_freq) * static_cast<std::int64_t>(x.size()) + orig_freq - 1) / orig_freq);
  std::vector<float> out(target);
  if (x.empty()) return out;
  std::size_t odone = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
  soxr_error_t err = soxr_oneshot(orig_freq, new_freq, 1, x.data(), x.size(), nullptr, out.data(), out.size(), &odone,
                                  &io, &q, nullptr);
  if (err) throw RuntimeError(std::string("soxr resampling failed: ") + err);
  out.resize(odone);
  out.resize(target, 0.0f);
  return out;
}

}  // namespace

std::int64_t torchaudio_kernel_size(int orig_freq, int new_freq) {
  if (orig_freq <= 0 || new_freq <= 0) return 0;
  const int g = std::gcd(orig_freq, new_freq);
  const int orig = orig_freq / g, nw = new_freq / g;
  double bf = 0;
  const int width = ceil_width(orig, nw, bf);
  return static_cast<std::int64_t>(nw) * (2 * static_cast<std::int64_t>(width) + orig);
}

std::vector<float> resample(std::span<const float> samples, int orig_freq, int new_freq, ResampleMethod method) {
  if (orig_freq <= 0 || new_freq <= 0)
    throw InvalidArgument("resample: sampling rates must be positive, got " + std::to_string(orig_freq) + " -> " +
                          std::to_string(new_freq));
  if (orig_freq == new_freq) return {samples.begin(), samples.end()};
  const double out_len = static_cast<double>(new_freq) * static_cast<double>(samples.size()) / orig_freq;
  if (out_len > static_cast<double>(kMaxResampledLength))
    throw InvalidArgument("resample: " + std::to_string(samples.size()) + " samples at " + std::to_string(orig_freq) +
                          " Hz would give " + std::to_string(static_cast<long long>(out_len)) + " samples at " +
                          std::to_string(new_freq) + " Hz (limit " + std::to_string(kMaxResampledLength) + ")");
  if (method == ResampleMethod::Auto)
    method = torchaudio_kernel_size(orig_freq, new_freq) <= kMaxTorchaudioKernel ? ResampleMethod::Torchaudio
                                                                                 : ResampleMethod::Soxr;
  if (method == ResampleMethod::Torchaudio) {
    if (torchaudio_kernel_size(orig_freq, new_freq) > kMaxTorchaudioKernel)
      throw InvalidArgument("resample: the torchaudio kernel for " + std::to_string(orig_freq) + " -> " +
                            std::to_string(new_freq) + " Hz is too large; use ResampleMethod::Soxr");
    return resample_torchaudio(samples, orig_freq, new_freq);
  }
  return resample_soxr(samples, orig_freq, new_freq);
}

std::vector<float> load_audio_mono(const std::filesystem::path& path, int sampling_rate) {
  const auto bytes = read_file_bytes(path);
  return ffmpeg_read(bytes, sampling_rate, path.string());
}

}  // namespace ortformers::preprocessing
