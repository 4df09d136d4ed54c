// Sampling warpers: TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, TypicalLogitsWarper,
// EpsilonLogitsWarper, EtaLogitsWarper. Filtered tokens get -inf.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

// The k-th largest value of a row (k >= 1).
float kth_largest(const float* row, std::int64_t n, std::int64_t k) {
  std::vector<float> copy(row, row + n);
  std::nth_element(copy.begin(), copy.begin() + (k - 1), copy.end(), std::greater<float>());
  return copy[static_cast<std::size_t>(k - 1)];
}

// Indices of a row sorted by `key` ascending (stable).
std::vector<std::int64_t> argsort(const std::vector<float>& key) {
  std::vector<std::int64_t> idx(key.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return key[static_cast<std::size_t>(a)] < key[static_cast<std::size_t>(b)]; });
  return idx;
}

// Cumulative sums of the softmax of `values` (accumulated in double, stored as float as torch's cumsum).
std::vector<float> cumulative_softmax(const std::vector<float>& values) {
  std::vector<float> p(values.size());
  softmax(values.data(), p.data(), static_cast<std::int64_t>(values.size()));
  double acc = 0;
  for (auto& v : p) {
    acc += v;
    v = static_cast<float>(acc);
  }
  return p;
}

}  // namespace

TemperatureLogitsWarper::TemperatureLogitsWarper(double temperature) : temperature_(static_cast<float>(temperature)) {
  if (!(temperature > 0))
    throw InvalidArgument("`temperature` has to be a strictly positive float, but is " + detail::py_float(temperature));
}

void TemperatureLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const std::int64_t n = scores.rows * scores.vocab;
  for (std::int64_t i = 0; i < n; ++i) scores.data[i] = scores.data[i] / temperature_;
}

TopKLogitsWarper::TopKLogitsWarper(std::int64_t top_k, std::int64_t min_tokens_to_keep) {
  if (top_k <= 0) throw InvalidArgument("`top_k` has to be a strictly positive integer, but is " + std::to_string(top_k));
  top_k_ = std::max(top_k, min_tokens_to_keep);
}

void TopKLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const auto k = std::min(top_k_, scores.vocab);
  if (k <= 0) return;
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    const float threshold = kth_largest(row, scores.vocab, k);
    for (std::int64_t v = 0; v < scores.vocab; ++v)
      if (row[v] < threshold) row[v] = detail::kNegInf;
  }
}

TopPLogitsWarper::TopPLogitsWarper(double top_p, std::int64_t min_tokens_to_keep)
    : top_p_(top_p), min_tokens_to_keep_(min_tokens_to_keep) {
  if (top_p < 0 || top_p > 1.0) throw InvalidArgument("`top_p` has to be a float > 0 and < 1, but is " + detail::py_float(top_p));
  detail::check_min_tokens_to_keep(min_tokens_to_keep);
}

void TopPLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const auto n = scores.vocab;
  const auto threshold = static_cast<float>(1.0 - top_p_);
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    std::vector<float> values(row, row + n);
    const auto order = argsort(values);  // ascending
    std::vector<float> sorted(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) sorted[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])];
    const auto cumulative = cumulative_softmax(sorted);
    for (std::int64_t i = 0; i < n - min_tokens_to_keep_; ++i)
      if (cumulative[static_cast<std::size_t>(i)] <= threshold) row[order[static_cast<std::size_t>(i)]] = detail::kNegInf;
  }
}

TypicalLogitsWarper::TypicalLogitsWarper(double mass, std::int64_t min_tokens_to_keep)
    : mass_(mass), min_tokens_to_keep_(min_tokens_to_keep) {
  if (!(mass > 0 && mass < 1))
    throw InvalidArgument("`typical_p` has to be a float > 0 and < 1, but is " + detail::py_float(mass));
  detail::check_min_tokens_to_keep(min_tokens_to_keep);
}

void TypicalLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const auto n = scores.vocab;
  const auto mass = static_cast<float>(mass_);
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    std::vector<float> normalized(static_cast<std::size_t>(n));
    log_softmax(row, normalized.data(), n);
    double entropy = 0;  // -(normalized * p).nansum()
    for (auto lp : normalized) {
      const double p = std::exp(static_cast<double>(lp));
      const double term = static_cast<double>(lp) * p;
      if (!std::isnan(term)) entropy -= term;
    }
    const auto ent = static_cast<float>(entropy);
    std::vector<float> shifted(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) shifted[static_cast<std::size_t>(i)] = std::fabs(-normalized[static_cast<std::size_t>(i)] - ent);
    const auto order = argsort(shifted);
    std::vector<float> sorted_logits(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) sorted_logits[static_cast<std::size_t>(i)] = row[order[static_cast<std::size_t>(i)]];
    const auto cumulative = cumulative_softmax(sorted_logits);
    std::int64_t last_ind = 0;
    for (auto c : cumulative) last_ind += c < mass ? 1 : 0;
    last_ind = std::min(last_ind, n - 1);
    const float cutoff = shifted[static_cast<std::size_t>(order[static_cast<std::size_t>(last_ind)])];
    for (std::int64_t i = min_tokens_to_keep_; i < n; ++i) {
      const auto v = order[static_cast<std::size_t>(i)];
      if (shifted[static_cast<std::size_t>(v)] > cutoff) row[v] = detail::kNegInf;
    }
  }
}

EpsilonLogitsWarper::EpsilonLogitsWarper(double epsilon, std::int64_t min_tokens_to_keep)
    : epsilon_(static_cast<float>(epsilon)), min_tokens_to_keep_(min_tokens_to_keep) {
  if (epsilon <= 0 || epsilon >= 1)
    throw InvalidArgument("`epsilon_cutoff` has to be a float > 0 and < 1, but is " + detail::py_float(epsilon));
  detail::check_min_tokens_to_keep(min_tokens_to_keep);
}

void EpsilonLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const auto n = scores.vocab;
  std::vector<float> p(static_cast<std::size_t>(n));
  const auto k = std::min(min_tokens_to_keep_, n);
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    softmax(row, p.data(), n);
    const float kth = kth_largest(row, n, k);
    for (std::int64_t v = 0; v < n; ++v)
      if (p[static_cast<std::size_t>(v)] < epsilon_ && row[v] < kth) row[v] = detail::kNegInf;
  }
}

EtaLogitsWarper::EtaLogitsWarper(double epsilon, std::int64_t min_tokens_to_keep)
    : epsilon_(static_cast<float>(epsilon)), min_tokens_to_keep_(min_tokens_to_keep) {
  if (epsilon <= 0 || epsilon >= 1)
    throw InvalidArgument("`eta_cutoff` has to be a float > 0 and < 1, but is " + detail::py_float(epsilon));
  detail::check_min_tokens_to_keep(min_tokens_to_keep);
}

void EtaLogitsWarper::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const auto n = scores.vocab;
  std::vector<float> p(static_cast<std::size_t>(n));
  std::vector<float> logp(static_cast<std::size_t>(n));
  const auto k = std::min(min_tokens_to_keep_, n);
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    softmax(row, p.data(), n);
    log_softmax(row, logp.data(), n);
    // Categorical(logits=row).entropy(): -sum(p * log p), log p clamped to the float minimum (so 0 * -inf is 0).
    double entropy = 0;
    for (std::int64_t v = 0; v < n; ++v) {
      const double lp = std::max(static_cast<double>(logp[static_cast<std::size_t>(v)]),
                                 static_cast<double>(std::numeric_limits<float>::lowest()));
      entropy -= lp * p[static_cast<std::size_t>(v)];
    }
    const float eta = std::min(epsilon_, static_cast<float>(std::sqrt(static_cast<double>(epsilon_)) *
                                                             std::exp(-static_cast<double>(static_cast<float>(entropy)))));
    const float kth = kth_largest(row, n, k);
    for (std::int64_t v = 0; v < n; ++v)
      if (p[static_cast<std::size_t>(v)] < eta && row[v] < kth) row[v] = detail::kNegInf;
  }
}

}  // namespace ortformers::generation
