#pragma once
// Helpers of the generation tests: reference floats ("-inf" / "inf" / "nan" strings), a deterministic fake model.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/generation/generate.hpp"
#include "support/fixtures.hpp"

namespace ortformers::testing {

inline float ref_float(const Json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "-inf") return -std::numeric_limits<float>::infinity();
    if (s == "inf") return std::numeric_limits<float>::infinity();
    return std::numeric_limits<float>::quiet_NaN();
  }
  return v.get<float>();
}

inline std::vector<float> ref_floats(const Json& data) {
  std::vector<float> out;
  for (const auto& v : data) out.push_back(ref_float(v));
  return out;
}

// Compares scores: -inf exactly where the reference has -inf, elsewhere within `tol` plus the reference's storage
// precision (7 significant digits). Returns the largest difference seen on finite entries.
inline double expect_scores_near(const std::vector<float>& actual, const std::vector<float>& expected, double tol,
                                 const std::string& what) {
  EXPECT_EQ(actual.size(), expected.size()) << what;
  double max_diff = 0;
  int reported = 0;
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    const float a = actual[i], e = expected[i];
    if (std::isinf(e) || std::isinf(a)) {
      if (a != e && reported++ < 5) ADD_FAILURE() << what << ": index " << i << " got " << a << ", expected " << e;
      continue;
    }
    const double d = std::fabs(static_cast<double>(a) - e);
    max_diff = std::max(max_diff, d);
    if (d > tol + 5e-7 * std::fabs(e) && reported++ < 5)
      ADD_FAILURE() << what << ": index " << i << " got " << a << ", expected " << e << " (diff " << d << ")";
  }
  return max_diff;
}

// A deterministic fake GenerativeModel: the logits of a row are a fixed function of its last token and its position
// (number of real tokens so far - 1). The "cache" is the token history of each row.
struct FakeModelSpec {
  std::int64_t vocab = 32;
  std::int64_t max_positions = 0;
  bool history_independent = false;  // logits depend on nothing (a fixed distribution)
  std::vector<float> fixed_logits;   // with history_independent
};

inline float fake_logit(const FakeModelSpec& s, std::int64_t last, std::int64_t position, std::int64_t v) {
  if (s.history_independent) return s.fixed_logits[static_cast<std::size_t>(v)];
  const double x = std::sin(0.7 * static_cast<double>(last) + 1.3 * static_cast<double>(v) + 0.37 * static_cast<double>(position)) * 3.0 +
                   std::cos(0.11 * static_cast<double>(v * (last + 1))) * 1.5;
  return static_cast<float>(x);
}

class FakeStep : public models::DecoderStep {
 public:
  FakeStep(FakeModelSpec spec, std::int64_t* calls) : spec_(std::move(spec)), calls_(calls) {}
  Tensor step(const Tensor& input_ids, const Tensor& attention_mask) override {
    if (calls_) ++*calls_;
    const auto rows = input_ids.dim(0), n = input_ids.dim(1);
    auto ids = input_ids.to_vector<std::int64_t>();
    auto mask = attention_mask.to_vector<std::int64_t>();
    const auto mask_len = attention_mask.dim(1);
    if (history_.empty()) history_.resize(static_cast<std::size_t>(rows));
    if (static_cast<std::int64_t>(history_.size()) != rows) throw InvalidArgument("FakeStep: row count changed");
    if (mask_len != past_ + n) throw InvalidArgument("FakeStep: attention_mask length " + std::to_string(mask_len));
    std::vector<float> logits(static_cast<std::size_t>(rows * spec_.vocab));
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t j = 0; j < n; ++j) history_[static_cast<std::size_t>(r)].push_back(ids[static_cast<std::size_t>(r * n + j)]);
      std::int64_t position = -1;
      for (std::int64_t j = 0; j < mask_len; ++j) position += mask[static_cast<std::size_t>(r * mask_len + j)];
      const auto last = history_[static_cast<std::size_t>(r)].back();
      for (std::int64_t v = 0; v < spec_.vocab; ++v)
        logits[static_cast<std::size_t>(r * spec_.vocab + v)] = fake_logit(spec_, last, position, v);
    }
    past_ += n;
    return Tensor::from_vector<float>(std::move(logits), {rows, spec_.vocab});
  }
  void select_rows(std::span<const std::int64_t> rows) override {
    std::vector<std::vector<std::int64_t>> h;
    for (auto r : rows) h.push_back(history_.at(static_cast<std::size_t>(r)));
    history_ = std::move(h);
  }
  std::int64_t rows() const override { return static_cast<std::int64_t>(history_.size()); }
  std::int64_t past_length() const override { return past_; }

 private:
  FakeModelSpec spec_;
  std::int64_t* calls_;
  std::vector<std::vector<std::int64_t>> history_;
  std::int64_t past_ = 0;
};

class FakeModel : public models::GenerativeModel {
 public:
  explicit FakeModel(FakeModelSpec spec = {}) : spec_(std::move(spec)) {}
  std::unique_ptr<models::DecoderStep> start(const TensorMap&) const override {
    return std::make_unique<FakeStep>(spec_, &calls);
  }
  bool is_encoder_decoder() const override { return false; }
  std::int64_t vocab_size() const override { return spec_.vocab; }
  std::int64_t max_positions() const override { return spec_.max_positions; }
  const FakeModelSpec& spec() const { return spec_; }
  mutable std::int64_t calls = 0;

 private:
  FakeModelSpec spec_;
};

inline Tensor ids_tensor(const std::vector<std::vector<std::int64_t>>& rows) {
  std::vector<std::int64_t> data;
  for (const auto& r : rows) data.insert(data.end(), r.begin(), r.end());
  return Tensor::from_vector<std::int64_t>(data, {static_cast<std::int64_t>(rows.size()),
                                                  rows.empty() ? 0 : static_cast<std::int64_t>(rows[0].size())});
}

inline std::vector<std::vector<std::int64_t>> rows_of(const Tensor& t) {
  std::vector<std::vector<std::int64_t>> out;
  auto v = t.to_vector<std::int64_t>();
  for (std::int64_t r = 0; r < t.dim(0); ++r)
    out.emplace_back(v.begin() + r * t.dim(1), v.begin() + (r + 1) * t.dim(1));
  return out;
}

}  // namespace ortformers::testing
