#pragma once
// Locating ../shared/fixtures (ORTFORMERS_FIXTURES overrides). When CI=true a missing folder is a failure,
// otherwise the test is skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::testing {

// The fixtures folder, or nullopt when absent.
std::optional<std::filesystem::path> find_fixtures_dir();
// ../shared/realmodels (next to fixtures), or nullopt.
std::optional<std::filesystem::path> find_realmodels_dir();
bool running_in_ci();
// A fresh empty temporary directory, unique per call.
std::filesystem::path make_temp_dir(const std::string& prefix);

// A reference tensor {"shape": [...], "data": [...]} as float values.
struct RefTensor {
  Shape shape;
  std::vector<float> data;
};
RefTensor ref_tensor(const Json& j);
// Model inputs recorded in a reference JSON: one `tokenization` entry -> [1, n] int64 tensors; a padded `inputs`
// object ({"input_ids": [[...], ...], ...}) -> [batch, seq]. Only the names in `names` (the graph's inputs) are taken.
TensorMap ref_inputs(const Json& tokenization, const std::vector<std::string>& names);
TensorMap ref_batch_inputs(const Json& inputs, const std::vector<std::string>& names);
// Max absolute difference between a tensor (any float dtype) and a reference; fails the test on shape mismatch.
double max_abs_diff(const Tensor& actual, const RefTensor& expected);

}  // namespace ortformers::testing

// Use at the start of a test body: binds `var` to the fixtures folder, or skips/fails.
#define ORTFORMERS_REQUIRE_FIXTURES(var)                                                       \
  auto var##_opt = ::ortformers::testing::find_fixtures_dir();                                 \
  if (!var##_opt) {                                                                            \
    if (::ortformers::testing::running_in_ci()) FAIL() << "fixtures folder missing (CI=true)"; \
    GTEST_SKIP() << "fixtures folder not found (set ORTFORMERS_FIXTURES)";                     \
  }                                                                                            \
  const std::filesystem::path var = *var##_opt

#define ORTFORMERS_REQUIRE_REALMODELS(var)                                                       \
  auto var##_opt = ::ortformers::testing::find_realmodels_dir();                                 \
  if (!var##_opt) {                                                                              \
    if (::ortformers::testing::running_in_ci()) FAIL() << "realmodels folder missing (CI=true)"; \
    GTEST_SKIP() << "realmodels folder not found";                                               \
  }                                                                                              \
  const std::filesystem::path var = *var##_opt
