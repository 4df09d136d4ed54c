#pragma once
// Audio decoding (file paths: FFmpeg, as transformers' ffmpeg_read; decode_audio / load_audio: libsndfile, WAV,
// FLAC, OGG/Vorbis, ...), mixing to mono and resampling.
// Resampling reproduces torchaudio.functional.resample (windowed-sinc interpolation with a Hann window,
// lowpass_filter_width = 6, rolloff = 0.99), which transformers' audio pipelines apply to {"raw", "sampling_rate"}
// inputs; rate pairs whose torchaudio kernel would be unreasonably large (e.g. 16001 -> 16000) go through libsoxr
// (very high quality) instead.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace ortformers::preprocessing {

struct Audio {
  std::vector<float> samples;  // interleaved when channels > 1, in [-1, 1]
  int sampling_rate = 0;
  int channels = 1;
  std::int64_t frames() const { return channels > 0 ? static_cast<std::int64_t>(samples.size()) / channels : 0; }
};

// Decodes an audio file held in memory. Integer PCM becomes value / 2^(bits-1) (16-bit: int16 / 32768, as
// scipy + transformers do). FileFormatError naming `source` for corrupt, truncated or unknown data.
Audio decode_audio(std::span<const std::uint8_t> bytes, const std::string& source = "<memory>");
// Reads and decodes an audio file. NotFoundError when missing.
Audio load_audio(const std::filesystem::path& path);

// Averages the channels in float32 ((l + r) / 2 for stereo), as numpy's mean over the channel axis.
std::vector<float> to_mono(const Audio& audio);

enum class ResampleMethod { Auto, Torchaudio, Soxr };

// Resamples mono samples from orig_freq to new_freq (Hz, positive integers). Auto = torchaudio's sinc
// interpolation when its kernel has at most `max_kernel_size` coefficients, libsoxr otherwise.
// Output length is ceil(new_freq * n / orig_freq), as torchaudio.
std::vector<float> resample(std::span<const float> samples, int orig_freq, int new_freq,
                            ResampleMethod method = ResampleMethod::Auto);
// The torchaudio kernel size for a rate pair (new/gcd * (2 * width + orig/gcd)).
std::int64_t torchaudio_kernel_size(int orig_freq, int new_freq);
constexpr std::int64_t kMaxTorchaudioKernel = 1 << 22;
// Longest resampled output accepted (InvalidArgument beyond: e.g. a corrupt 1 Hz header upsampled to 16 kHz).
constexpr std::int64_t kMaxResampledLength = std::int64_t{1} << 30;

// transformers' ffmpeg_read(bpayload, sampling_rate): an audio file in memory (any container and codec FFmpeg reads:
// WAV, FLAC, MP3, OGG/Vorbis/Opus, M4A/AAC, WebM, ...) decoded by FFmpeg's libraries as
// `ffmpeg -i pipe:0 -ac 1 -ar <sampling_rate> -f f32le pipe:1` does: libswresample's downmix and resampler with the
// CLI's defaults (0 = keep the file's rate). FileFormatError naming `source` when the data cannot be decoded,
// InvalidArgument when it decodes to no samples (transformers: ValueError, same message).
std::vector<float> ffmpeg_read(std::span<const std::uint8_t> bytes, int sampling_rate,
                               const std::string& source = "<memory>");

// What a pipeline does with a file path (transformers reads the file and calls ffmpeg_read): mono float32 at
// `sampling_rate` (0 = keep the file's rate). NotFoundError when missing. Raw arrays with their own sampling_rate
// (the dict form) are resampled with `resample` (torchaudio's algorithm) instead, as transformers does.
std::vector<float> load_audio_mono(const std::filesystem::path& path, int sampling_rate);

}  // namespace ortformers::preprocessing
