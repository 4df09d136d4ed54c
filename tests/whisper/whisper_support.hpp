#pragma once
// Shared helpers of the Whisper tests: the whisper-tiny reference JSON and its sampled tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing::whisper {

inline const Json& reference(const std::filesystem::path& fixtures) {
  static const Json j = read_json_file(fixtures / "reference" / "whisper-tiny.json");
  return j;
}

inline float ref_float(const Json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "-inf") return -INFINITY;
    if (s == "inf") return INFINITY;
    return NAN;
  }
  return v.get<float>();
}

// A sampled reference tensor ({"shape", "step", "data", "head", "mean", "std", "min", "max"}) against the whole tensor:
// every step-th value, the head and the statistics, each within `tol`. Returns the largest difference.
inline double compare_sampled(const std::vector<float>& actual, const Json& ref, double tol, const std::string& what) {
  std::size_t n = 1;
  for (const auto& d : ref.at("shape")) n *= d.get<std::size_t>();
  EXPECT_EQ(actual.size(), n) << what;
  if (actual.size() != n) return INFINITY;
  const auto step = ref.at("step").get<std::size_t>();
  double worst = 0;
  const auto& data = ref.at("data");
  EXPECT_EQ(data.size(), (n + step - 1) / step) << what;
  for (std::size_t i = 0; i < data.size() && i * step < n; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(actual[i * step]) - ref_float(data[i])));
  const auto& head = ref.at("head");
  for (std::size_t i = 0; i < head.size() && i < n; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(actual[i]) - ref_float(head[i])));
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  for (float v : actual) {
    sum += v;
    mn = std::min<double>(mn, v);
    mx = std::max<double>(mx, v);
  }
  const double mean = sum / static_cast<double>(n);
  double sq = 0;
  for (float v : actual) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(n));
  EXPECT_NEAR(mean, ref.at("mean").get<double>(), tol) << what;
  EXPECT_NEAR(sd, ref.at("std").get<double>(), tol) << what;
  EXPECT_NEAR(mn, ref.at("min").get<double>(), tol) << what;
  EXPECT_NEAR(mx, ref.at("max").get<double>(), tol) << what;
  EXPECT_LE(worst, tol) << what;
  return worst;
}

}  // namespace ortformers::testing::whisper
