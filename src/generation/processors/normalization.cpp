// InfNanRemoveLogitsProcessor (nan -> 0, +inf -> float max), LogitNormalization (log-softmax), and the softmax /
// log-softmax the strategies share.
#include <cmath>
#include <limits>

#include "generation/processors/common.hpp"

namespace ortformers::generation {

void softmax(const float* in, float* out, std::int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < n; ++i) max = std::fmax(max, in[i]);
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(in[i]) - max);
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(std::exp(static_cast<double>(in[i]) - max) / sum);
}

void log_softmax(const float* in, float* out, std::int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < n; ++i) max = std::fmax(max, in[i]);
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(in[i]) - max);
  const double log_sum = std::log(sum);
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(in[i]) - max - log_sum);
}

void InfNanRemoveLogitsProcessor::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  const std::int64_t n = scores.rows * scores.vocab;
  for (std::int64_t i = 0; i < n; ++i) {
    float& s = scores.data[i];
    if (std::isnan(s)) s = 0.0f;
    else if (s == std::numeric_limits<float>::infinity()) s = std::numeric_limits<float>::max();
  }
}

void LogitNormalization::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  for (std::int64_t r = 0; r < scores.rows; ++r) log_softmax(scores.row(r), scores.row(r), scores.vocab);
}

}  // namespace ortformers::generation
