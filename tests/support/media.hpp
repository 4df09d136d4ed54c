#pragma once
// Helpers of the vision / audio fixture tests (tests/media, tests/families_media, tests/export_media): reference
// JSON loading (cached), tensors given by "same_as" JSON pointers or "sampled" (every step-th value + head),
// comparisons, and the fixture clips / images as the references fed them to transformers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing::media {

inline const Json& reference(const std::filesystem::path& fixtures, const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_json_file(fixtures / "reference" / (name + ".json"))).first;
  return it->second;
}

// Resolves {"same_as": "reference/<file>.json#/pointer"} entries.
inline const Json& resolve(const std::filesystem::path& fixtures, const Json& t) {
  if (!t.contains("same_as")) return t;
  const std::string s = t.at("same_as").get<std::string>();
  const auto hash = s.find('#');
  std::string file = s.substr(0, hash);
  const std::string prefix = "reference/";
  if (file.rfind(prefix, 0) == 0) file = file.substr(prefix.size());
  const std::string name = file.substr(0, file.size() - 5);  // drop ".json"
  const Json& doc = reference(fixtures, name);
  return resolve(fixtures, doc.at(Json::json_pointer(s.substr(hash + 1))));
}

// Max |a - ref| over a flat float vector vs a reference tensor entry (full, or sampled: data every `step`, head).
inline double max_diff_values(const std::vector<float>& a, const Json& ref) {
  double m = 0;
  std::int64_t n = 1;
  for (auto d : ref.at("shape")) n *= d.get<std::int64_t>();
  EXPECT_EQ(static_cast<std::int64_t>(a.size()), n) << "size mismatch with the reference";
  if (static_cast<std::int64_t>(a.size()) != n) return INFINITY;
  const auto& data = ref.at("data");
  if (ref.value("sampled", false)) {
    const std::size_t step = ref.at("step").get<std::size_t>();
    for (std::size_t i = 0; i < data.size(); ++i)
      m = std::max(m, std::fabs(static_cast<double>(a[i * step]) - data[i].get<double>()));
    const auto& head = ref.at("head");
    for (std::size_t i = 0; i < head.size(); ++i)
      m = std::max(m, std::fabs(static_cast<double>(a[i]) - head[i].get<double>()));
    return m;
  }
  for (std::size_t i = 0; i < data.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - data[i].get<double>()));
  return m;
}

inline double max_diff(const Tensor& t, const Json& ref) {
  return max_diff_values(t.to_float_vector(), ref);
}

inline std::vector<std::int64_t> shape_of(const Json& ref) {
  return ref.at("shape").get<std::vector<std::int64_t>>();
}

// A fully recorded reference tensor (not "sampled") as a Tensor.
inline Tensor tensor_from_ref(const std::filesystem::path& fixtures, const Json& entry) {
  const Json& r = resolve(fixtures, entry);
  EXPECT_FALSE(r.value("sampled", false));
  return Tensor::from_vector(r.at("data").get<std::vector<float>>(), shape_of(r));
}

// Row `b` (first axis) of a tensor, as its own tensor with a first dimension of 1.
inline Tensor row(const Tensor& t, std::int64_t b) {
  auto v = t.to_float_vector();
  Shape s = t.shape();
  const std::int64_t n = t.numel() / s[0];
  s[0] = 1;
  return Tensor::from_vector(std::vector<float>(v.begin() + b * n, v.begin() + (b + 1) * n), s);
}

// Max |a - b| over two tensors of the same shape (a failure and infinity when the shapes differ).
inline double max_abs(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(shape_to_string(a.shape()), shape_to_string(b.shape()));
  if (a.shape() != b.shape()) return INFINITY;
  auto x = a.to_float_vector(), y = b.to_float_vector();
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(x[i]) - y[i]));
  return m;
}

// Tensors of the same shape [1, ...] stacked along the first axis.
inline Tensor stack(const std::vector<Tensor>& ts) {
  std::vector<float> all;
  for (const auto& t : ts) {
    auto v = t.to_float_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  Shape s = ts.front().shape();
  s[0] = static_cast<std::int64_t>(ts.size());
  return Tensor::from_vector(std::move(all), s);
}

// The same shape with the values in reverse order (a second, different input of the same size).
inline Tensor reversed(const Tensor& t) {
  auto v = t.to_float_vector();
  std::reverse(v.begin(), v.end());
  return Tensor::from_vector(std::move(v), t.shape());
}

// Prefixes fixture-relative paths ("media/...") with the fixtures folder, recursively (a pipeline input as the
// reference recorded it: one path or a list of paths).
inline Json absolutize(const std::filesystem::path& fixtures, const Json& in) {
  if (in.is_string()) return (fixtures / in.get<std::string>()).string();
  if (in.is_array()) {
    Json out = Json::array();
    for (const auto& x : in) out.push_back(absolutize(fixtures, x));
    return out;
  }
  return in;
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

// The pipeline input {"raw": waveform, "sampling_rate"} of a fixture clip as the references made it: 16-bit PCM /
// 32768, channels averaged, at the file's own rate (the pipeline resamples). `desc` is the recorded description
// ("media/audio/x.wav ..."): its first word is the file.
inline Json raw_input(const std::filesystem::path& fixtures, const std::string& desc) {
  const auto a = preprocessing::load_audio(fixtures / desc.substr(0, desc.find(' ')));
  return {{"raw", preprocessing::to_mono(a)}, {"sampling_rate", a.sampling_rate}};
}

// The first `frames` stereo frames of the 44.1 kHz stereo clip as [[left, right], ...]: the "raw_stereo" input that
// the audio pipelines reject ("We expect a single channel audio input ...").
inline Json stereo_frames(const std::filesystem::path& fixtures, std::int64_t frames) {
  const auto a = preprocessing::load_audio(fixtures / "media/audio/speech_44k1_stereo.wav");
  Json out = Json::array();
  for (std::int64_t i = 0; i < std::min<std::int64_t>(a.frames(), frames); ++i)
    out.push_back({a.samples[i * 2], a.samples[i * 2 + 1]});
  return out;
}

// The fixture clip `file` (relative to the fixtures folder) as the mono 16 kHz waveform the reference fed the
// feature extractor (torchaudio's resampling to 16 kHz), optionally cut to its first `first_samples`.
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

}  // namespace ortformers::testing::media
