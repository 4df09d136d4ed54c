#pragma once
// TGI's NextTokenChooser: the logits processing and the choice of one sequence's next token, with its own processors
// (transformers 4.31's, built by get_logits_processor / get_logits_warper from the request's parameters), OpenAI's
// presence / frequency penalties, and its own random generator (SamplingRng, seeded per request). Every row of a
// running batch has one, so rows never share sampling state.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ortformers/generation/logits_processors.hpp"
#include "ortformers/generation/sampling.hpp"
#include "server/engine/generation_request.hpp"

namespace ortformers::server {

class TokenChooser {
 public:
  // InvalidArgument (transformers' text) for parameters the processors refuse (temperature <= 0, top_p outside (0, 1]).
  TokenChooser(const GenerationParams& params, std::vector<std::int64_t> prompt, std::int64_t vocab);
  // Picks the next token from raw logits [vocab] (modified in place) and records it as generated.
  GeneratedToken choose(float* logits);
  bool sampling() const noexcept { return sample_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::int64_t generated() const noexcept { return static_cast<std::int64_t>(ids_.cols - prompt_length_); }

 private:
  GenerationParams params_;
  bool sample_;
  std::uint64_t seed_;
  std::int64_t vocab_;
  std::int64_t prompt_length_;
  generation::TokenMatrix ids_;  // [1, prompt + generated]
  generation::LogitsProcessorList processors_, warpers_;
  std::unique_ptr<generation::SamplingRng> rng_;
  std::vector<float> work_;           // log-softmax (when logprobs are wanted)
  std::vector<float> probs_;          // sampling probabilities
  std::vector<std::int32_t> counts_;  // generated occurrences per id (penalties)
};

}  // namespace ortformers::server
