#pragma once
// Chunked prefill (the server's --max-batch-prefill-tokens): a prompt fed to one DecoderStep in chunks, each chunk
// continuing the cache of the ones before, must give the logits and greedy tokens of one prefill of the whole
// prompt. Shared by tests/causal_lm (the fixtures' optimum exports) and tests/export_generative (our exports, the
// --optimize one included).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/models/decoder_step.hpp"

namespace ortformers::testing {

struct GreedyAfterPrefill {
  std::vector<std::vector<float>> logits;  // the last prompt position's, then each greedy step's ([vocab] each)
  std::vector<std::int64_t> tokens;        // the greedy token chosen from each of them
  std::int64_t past_after_prompt = 0;      // the state's past_length() once the prompt is in
};

// Prefills `prompt` in chunks of `chunk` tokens (the last one shorter), then runs `steps` greedy steps.
inline GreedyAfterPrefill greedy_after_prefill(const models::GenerativeModel& model,
                                               const std::vector<std::int64_t>& prompt, std::int64_t chunk, int steps) {
  auto state = model.start();
  const auto n = static_cast<std::int64_t>(prompt.size());
  Tensor logits;
  for (std::int64_t at = 0; at < n; at += chunk) {
    const std::int64_t len = std::min(chunk, n - at), total = at + len;
    logits = state->step(
        Tensor::from_vector(std::vector<std::int64_t>(prompt.begin() + at, prompt.begin() + at + len), {1, len}),
        Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(total), 1), {1, total}));
  }
  GreedyAfterPrefill out;
  out.past_after_prompt = state->past_length();
  for (int s = 0;; ++s) {
    out.logits.push_back(logits.to_float_vector());
    const auto& l = out.logits.back();
    out.tokens.push_back(std::max_element(l.begin(), l.end()) - l.begin());
    if (s == steps) break;
    const std::int64_t total = state->past_length() + 1;
    logits =
        state->step(Tensor::from_vector(std::vector<std::int64_t>{out.tokens.back()}, {1, 1}),
                    Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(total), 1), {1, total}));
  }
  return out;
}

// The largest absolute logits difference between two runs (same number of steps).
inline double max_logits_diff(const GreedyAfterPrefill& a, const GreedyAfterPrefill& b) {
  double d = 0;
  for (std::size_t s = 0; s < a.logits.size() && s < b.logits.size(); ++s)
    for (std::size_t i = 0; i < a.logits[s].size() && i < b.logits[s].size(); ++i)
      d = std::max(d, static_cast<double>(std::fabs(a.logits[s][i] - b.logits[s][i])));
  return d;
}

// A deterministic prompt of `n` ids below `vocab` (varied, no special structure).
inline std::vector<std::int64_t> chunking_prompt(std::int64_t n, std::int64_t vocab) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < n; ++i) ids.push_back((i * 7919 + 101) % (std::min<std::int64_t>(vocab, 5000) - 3) + 3);
  return ids;
}

}  // namespace ortformers::testing
