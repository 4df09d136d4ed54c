// SamplingRng: std::mt19937_64 with our own uniform / categorical draws (see sampling.hpp).
#include "ortformers/generation/sampling.hpp"

#include <cmath>

#include "ortformers/core/error.hpp"

namespace ortformers::generation {

double SamplingRng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

std::int64_t SamplingRng::categorical(std::span<const float> weights) {
  double total = 0;
  for (float w : weights)
    if (w > 0 && std::isfinite(w)) total += w;
  if (!(total > 0)) throw InvalidArgument("sampling: no token has a positive probability (every score is -inf or nan)");
  const double target = uniform() * total;
  double acc = 0;
  std::int64_t last_positive = -1;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const float w = weights[i];
    if (!(w > 0 && std::isfinite(w))) continue;
    acc += w;
    last_positive = static_cast<std::int64_t>(i);
    if (target < acc) return last_positive;
  }
  return last_positive;  // rounding: u * total landed on the total
}

std::vector<std::int64_t> SamplingRng::multinomial_without_replacement(std::span<const float> weights, std::int64_t n) {
  std::vector<float> w(weights.begin(), weights.end());
  std::int64_t positive = 0;
  for (float x : w) positive += (x > 0 && std::isfinite(x)) ? 1 : 0;
  if (positive < n)
    throw RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative category to "
                       "sample): " + std::to_string(positive) + " tokens have a positive probability, " +
                       std::to_string(n) + " are drawn");
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto idx = categorical(w);
    out.push_back(idx);
    w[static_cast<std::size_t>(idx)] = 0.0f;
  }
  return out;
}

}  // namespace ortformers::generation
