// libFuzzer target: audio decoding (libsndfile over memory: WAV/FLAC/OGG/AIFF...) followed by mono mixing and
// resampling of what decodes. Any input must give samples or an ortformers::Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers::preprocessing;
  try {
    const Audio a = decode_audio(std::span<const std::uint8_t>(data, size), "fuzz");
    auto mono = to_mono(a);
    if (mono.size() > 48000) mono.resize(48000);
    if (!mono.empty() && a.sampling_rate >= 4000 && a.sampling_rate <= 192000)
      (void)resample(mono, a.sampling_rate, 16000);
  } catch (const ortformers::Error&) {
  }
  return 0;
}
