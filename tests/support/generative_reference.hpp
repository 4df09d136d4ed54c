#pragma once
// Helpers of the tests that compare generative models with the reference JSON of the generative fixtures
// (reference/<gpt2,llama,t5,bart,whisper,...>.json): integer matrices, vocabulary-sized logits stored whole or as
// `columns` + `topk`, and one `generate` case (sequences identical, processed scores and sequences_scores within
// a tolerance).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/encoder_decoder.hpp"

namespace ortformers::testing {

// reference/<name>.json under the fixtures folder, parsed once per test binary.
inline const Json& cached_reference(const std::filesystem::path& fixtures, const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_json_file(fixtures / "reference" / (name + ".json"))).first;
  return it->second;
}

// The three decoder layouts of optimum's encoder-decoder exports, as the tests open them (use_cache, use_merged) and
// the layout the model must then report.
struct DecoderLayoutCase {
  const char* name;
  bool use_cache;
  std::optional<bool> use_merged;
  models::DecoderLayout expected;
};
inline const DecoderLayoutCase kDecoderLayouts[] = {{"merged", true, std::nullopt, models::DecoderLayout::Merged},
                                                    {"split", true, false, models::DecoderLayout::Split},
                                                    {"no_cache", false, std::nullopt, models::DecoderLayout::NoCache}};

// A GoogleTest parameter name "<model>_<layout>" ('-' becomes '_').
inline std::string layout_param_name(const std::string& model, int layout) {
  std::string n = model + "_" + kDecoderLayouts[layout].name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

// [[...], ...] -> int64 [rows, cols].
inline Tensor int_tensor(const Json& rows) {
  std::vector<std::int64_t> flat;
  for (const auto& r : rows)
    for (const auto& v : r) flat.push_back(v.get<std::int64_t>());
  const auto b = static_cast<std::int64_t>(rows.size());
  return Tensor::from_vector(std::move(flat), {b, b ? static_cast<std::int64_t>(rows[0].size()) : 0});
}

// A reference float: a number, or "-inf" / "inf" / "nan".
inline float reference_float(const Json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "-inf") return -std::numeric_limits<float>::infinity();
    if (s == "inf") return std::numeric_limits<float>::infinity();
    return std::numeric_limits<float>::quiet_NaN();
  }
  return v.get<float>();
}

// Compares actual logits [b, s, V] with a reference logits entry ([b, s_ref, V] or [b, s_ref, columns] + topk) at
// the reference's last s positions: every stored value (column, top-k value) and the same argmax where top-k is
// stored. Returns the max difference.
inline double compare_logits(const Tensor& actual, const Json& ref) {
  EXPECT_EQ(actual.rank(), 3u);
  if (actual.rank() != 3) return INFINITY;
  const auto shape = ref.at("shape").get<Shape>();
  const std::int64_t b = actual.dim(0), s = actual.dim(1), vocab = actual.dim(2);
  EXPECT_EQ(b, shape[0]);
  const std::int64_t s_ref = shape[1], offset = s_ref - s;
  EXPECT_GE(offset, 0);
  if (b != shape[0] || offset < 0) return INFINITY;
  const auto values = actual.to_float_vector();
  const auto at = [&](std::int64_t row, std::int64_t pos, std::int64_t id) {
    return static_cast<double>(values[static_cast<std::size_t>((row * s + pos) * vocab + id)]);
  };
  double worst = 0;
  const Json& data = ref.at("data");
  if (ref.contains("columns")) {
    const auto columns = ref.at("columns").get<std::vector<std::int64_t>>();
    const auto nc = static_cast<std::int64_t>(columns.size());
    for (std::int64_t r = 0; r < b; ++r)
      for (std::int64_t p = 0; p < s; ++p)
        for (std::int64_t c = 0; c < nc; ++c)
          worst = std::max(worst,
                           std::fabs(at(r, p, columns[c]) - data[((r * s_ref) + p + offset) * nc + c].get<double>()));
    const Json& topk = ref.at("topk");
    for (std::int64_t r = 0; r < b; ++r) {
      for (std::int64_t p = 0; p < s; ++p) {
        const auto ids = topk.at("indices")[r][p + offset].get<std::vector<std::int64_t>>();
        const auto vals = topk.at("values")[r][p + offset].get<std::vector<double>>();
        for (std::size_t k = 0; k < ids.size(); ++k) worst = std::max(worst, std::fabs(at(r, p, ids[k]) - vals[k]));
        std::int64_t best = 0;
        for (std::int64_t v = 1; v < vocab; ++v)
          if (at(r, p, v) > at(r, p, best)) best = v;
        EXPECT_EQ(best, ids[0]) << "argmax of row " << r << " position " << p;
      }
    }
  } else {
    EXPECT_EQ(vocab, shape[2]);
    if (vocab != shape[2]) return INFINITY;
    for (std::int64_t r = 0; r < b; ++r)
      for (std::int64_t p = 0; p < s; ++p)
        for (std::int64_t v = 0; v < vocab; ++v)
          worst = std::max(worst, std::fabs(at(r, p, v) - data[((r * s_ref) + p + offset) * vocab + v].get<double>()));
  }
  return worst;
}

struct GenerateCaseDiffs {
  double scores = 0;            // max |processed score - reference| over the recorded top-k entries
  double sequences_scores = 0;  // beam methods
};

// One reference `generate` case `c` against `out` (generated with output_scores): sequences identical; per step
// the finite count, the recorded top-k ids' values within tol (-inf exactly), nothing outside the top-k above the
// last recorded value; sequences_scores within tol.
inline GenerateCaseDiffs check_generate_case(const generation::GenerateOutput& out, const Json& c,
                                             const std::string& id, double tol = 1e-4) {
  GenerateCaseDiffs diffs;
  std::vector<std::vector<std::int64_t>> sequences;
  {
    const auto v = out.sequences.to_vector<std::int64_t>();
    for (std::int64_t r = 0; r < out.sequences.dim(0); ++r)
      sequences.emplace_back(v.begin() + r * out.sequences.dim(1), v.begin() + (r + 1) * out.sequences.dim(1));
  }
  EXPECT_EQ(sequences, c.at("sequences").get<std::vector<std::vector<std::int64_t>>>()) << id;
  const auto& steps = c.at("scores");
  EXPECT_EQ(out.scores.size(), steps.size()) << id;
  if (out.scores.size() != steps.size()) return diffs;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const auto scores = out.scores[s].to_vector<float>();
    const auto vocab = out.scores[s].dim(1);
    const auto& topk_ids = steps[s].at("topk_indices");
    const auto& topk_values = steps[s].at("topk_values");
    const auto& finite = steps[s].at("finite_count");
    EXPECT_EQ(out.scores[s].dim(0), static_cast<std::int64_t>(topk_ids.size())) << id << " step " << s;
    if (out.scores[s].dim(0) != static_cast<std::int64_t>(topk_ids.size())) continue;
    for (std::size_t r = 0; r < topk_ids.size(); ++r) {
      const float* row = scores.data() + static_cast<std::int64_t>(r) * vocab;
      std::int64_t finite_count = 0;
      for (std::int64_t v = 0; v < vocab; ++v) finite_count += std::isinf(row[v]) && row[v] < 0 ? 0 : 1;
      EXPECT_EQ(finite_count, finite[r].get<std::int64_t>()) << id << " step " << s << " row " << r;
      for (std::size_t k = 0; k < topk_ids[r].size(); ++k) {
        const float expected = reference_float(topk_values[r][k]);
        const float actual = row[topk_ids[r][k].get<std::int64_t>()];
        if (std::isinf(expected)) {
          EXPECT_EQ(actual, expected) << id << " step " << s << " row " << r << " k " << k;
          continue;
        }
        diffs.scores = std::max(diffs.scores, std::fabs(static_cast<double>(actual) - expected));
        EXPECT_NEAR(actual, expected, tol) << id << " step " << s << " row " << r << " k " << k;
      }
      if (!topk_values[r].empty()) {
        const float last = reference_float(topk_values[r].back());
        std::int64_t above = 0;
        for (std::int64_t v = 0; v < vocab; ++v) above += row[v] > last + static_cast<float>(tol) ? 1 : 0;
        EXPECT_LE(above, static_cast<std::int64_t>(topk_values[r].size()) - 1) << id << " step " << s << " row " << r;
      }
    }
  }
  if (c.contains("sequences_scores")) {
    const auto expected = c.at("sequences_scores").get<std::vector<float>>();
    EXPECT_TRUE(out.sequences_scores.defined()) << id;
    if (!out.sequences_scores.defined()) return diffs;
    const auto actual = out.sequences_scores.to_vector<float>();
    EXPECT_EQ(actual.size(), expected.size()) << id;
    for (std::size_t i = 0; i < std::min(expected.size(), actual.size()); ++i) {
      diffs.sequences_scores =
          std::max(diffs.sequences_scores, std::fabs(static_cast<double>(actual[i]) - expected[i]));
      EXPECT_NEAR(actual[i], expected[i], tol) << id << " sequence " << i;
    }
  }
  return diffs;
}

}  // namespace ortformers::testing
