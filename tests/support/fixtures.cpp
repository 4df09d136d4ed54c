#include "support/fixtures.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <unistd.h>

namespace ortformers::testing {

namespace fs = std::filesystem;

std::optional<fs::path> find_fixtures_dir() {
  if (const char* env = std::getenv("ORTFORMERS_FIXTURES"); env && *env) {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  std::vector<fs::path> candidates;
#ifdef ORTFORMERS_SOURCE_DIR
  candidates.push_back(fs::path(ORTFORMERS_SOURCE_DIR) / ".." / "shared" / "fixtures");
#endif
  candidates.push_back(fs::current_path() / ".." / "shared" / "fixtures");
  for (const auto& c : candidates) {
    if (fs::is_directory(c)) return fs::canonical(c);
  }
  return std::nullopt;
}

std::optional<fs::path> find_realmodels_dir() {
  auto fixtures = find_fixtures_dir();
  if (!fixtures) return std::nullopt;
  auto p = *fixtures / ".." / "realmodels";
  if (fs::is_directory(p)) return fs::canonical(p);
  return std::nullopt;
}

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

fs::path make_temp_dir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  auto dir = fs::temp_directory_path() /
             ("ortformers-" + prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

RefTensor ref_tensor(const Json& j) {
  RefTensor t;
  t.shape = j.at("shape").get<Shape>();
  t.data.reserve(j.at("data").size());
  for (const auto& v : j.at("data")) t.data.push_back(v.get<float>());
  return t;
}

TensorMap ref_inputs(const Json& tok, const std::vector<std::string>& names) {
  TensorMap m;
  for (const auto& name : names) {
    if (!tok.contains(name)) continue;
    auto v = tok.at(name).get<std::vector<std::int64_t>>();
    const auto n = static_cast<std::int64_t>(v.size());
    m.emplace(name, Tensor::from_vector(std::move(v), {1, n}));
  }
  return m;
}

TensorMap ref_batch_inputs(const Json& inputs, const std::vector<std::string>& names) {
  TensorMap m;
  for (const auto& name : names) {
    if (!inputs.contains(name)) continue;
    const auto& rows = inputs.at(name);
    std::vector<std::int64_t> flat;
    for (const auto& r : rows)
      for (const auto& v : r) flat.push_back(v.get<std::int64_t>());
    const auto b = static_cast<std::int64_t>(rows.size());
    const auto seq = static_cast<std::int64_t>(flat.size()) / b;
    m.emplace(name, Tensor::from_vector(std::move(flat), {b, seq}));
  }
  return m;
}

double max_abs_diff(const Tensor& actual, const RefTensor& expected) {
  EXPECT_EQ(shape_to_string(actual.shape()), shape_to_string(expected.shape));
  auto values = actual.to_float_vector();
  if (values.size() != expected.data.size()) {
    ADD_FAILURE() << "size " << values.size() << " vs reference " << expected.data.size();
    return INFINITY;
  }
  double m = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    double d = std::fabs(static_cast<double>(values[i]) - expected.data[i]);
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

}  // namespace ortformers::testing
