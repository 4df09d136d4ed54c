#pragma once
// The sampling random generator: std::mt19937_64 seeded with GenerationConfig::seed (a std::random_device draw when
// unset), with its own uniform and categorical draws so that a seed gives the same tokens on every platform and
// standard library (std::uniform_real_distribution / std::discrete_distribution are implementation-defined).
// uniform(): the top 53 bits of one 64-bit draw times 2^-53, in [0, 1). categorical(p): one uniform u, then the first
// index whose running sum (in double, over the non-negative weights) exceeds u * total. Not torch's generator: a seed
// does not reproduce PyTorch's tokens.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace ortformers::generation {

class SamplingRng {
 public:
  explicit SamplingRng(std::uint64_t seed) : engine_(seed) {}
  double uniform();
  // An index drawn with probability weights[i] / sum(weights). InvalidArgument when no weight is positive.
  std::int64_t categorical(std::span<const float> weights);
  // torch.multinomial(weights, n, replacement=False): n distinct indices, each draw renormalised over the rest.
  // RuntimeError (torch's text) when fewer than n weights are positive.
  std::vector<std::int64_t> multinomial_without_replacement(std::span<const float> weights, std::int64_t n);

 private:
  std::mt19937_64 engine_;
};

}  // namespace ortformers::generation
