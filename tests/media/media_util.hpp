#pragma once
// Helpers for the vision / audio fixture tests: reference JSON loading (cached), tensors given by "same_as" JSON
// pointers or "sampled" (every step-th value + head), and comparisons.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
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

}  // namespace ortformers::testing::media
