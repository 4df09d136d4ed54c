#pragma once
// Helpers of the ConvNeXt / DeiT / WavLM / AST fixture tests: decoding a fixture clip as the reference did
// (16-bit PCM / 32768, channels averaged, torchaudio resampling to 16 kHz) and the recorded model inputs.
#include <filesystem>
#include <string>
#include <vector>

#include "media/media_util.hpp"
#include "ortformers/preprocessing/audio.hpp"

namespace ortformers::testing::families {

using namespace ortformers::testing::media;

// The fixture clip `file` (relative to the fixtures folder) as the mono 16 kHz waveform the reference fed the
// feature extractor, optionally cut to its first `first_samples`.
inline std::vector<float> clip(const std::filesystem::path& fixtures, const std::string& file,
                               const Json& first_samples = Json()) {
  const auto a = preprocessing::load_audio(fixtures / file);
  auto mono = preprocessing::to_mono(a);
  if (a.sampling_rate != 16000) mono = preprocessing::resample(mono, a.sampling_rate, 16000);
  if (!first_samples.is_null()) mono.resize(first_samples.get<std::size_t>());
  return mono;
}

// The batch waveforms recorded in a reference's `batch.audio`.
inline std::vector<std::vector<float>> batch_clips(const std::filesystem::path& fixtures, const Json& ref) {
  std::vector<std::vector<float>> out;
  for (const auto& a : ref.at("batch").at("audio"))
    out.push_back(clip(fixtures, a.at("file").get<std::string>(), a.at("first_samples")));
  return out;
}

// A {shape, row_lengths} attention-mask entry as a flat int vector (row i: row_lengths[i] ones, then zeros).
inline std::vector<std::int64_t> mask_from_ref(const Json& m) {
  const auto shape = m.at("shape").get<std::vector<std::int64_t>>();
  std::vector<std::int64_t> v(static_cast<std::size_t>(shape[0] * shape[1]), 0);
  const auto lens = m.at("row_lengths").get<std::vector<std::int64_t>>();
  for (std::size_t r = 0; r < lens.size(); ++r)
    std::fill(v.begin() + static_cast<std::ptrdiff_t>(r * shape[1]),
              v.begin() + static_cast<std::ptrdiff_t>(r * shape[1] + lens[r]), 1);
  return v;
}

// A pipeline result list [{"score", "label"}...] (or a list of such lists) against the recorded one: the same
// labels in the same order, every score within `tolerance`. Returns the largest score difference.
inline double compare_scored(const Json& actual, const Json& expected, const std::string& what,
                             double tolerance = 1e-4) {
  EXPECT_EQ(actual.size(), expected.size()) << what << "\n" << actual.dump() << "\n" << expected.dump();
  if (actual.size() != expected.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].is_array()) {
      worst = std::max(worst, compare_scored(actual[i], expected[i], what, tolerance));
      continue;
    }
    EXPECT_EQ(actual[i].at("label"), expected[i].at("label")) << what << " #" << i;
    worst = std::max(worst, std::fabs(actual[i].at("score").get<double>() - expected[i].at("score").get<double>()));
  }
  EXPECT_LE(worst, tolerance) << what;
  return worst;
}

}  // namespace ortformers::testing::families
