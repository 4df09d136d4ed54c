#pragma once
// What generate() hands to the strategy loops (not installed): the prepared config, the expanded decoder inputs, the
// model state, processors and stopping criteria, and the helpers every loop shares.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "ortformers/generation/beam_search.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/generation/sampling.hpp"

namespace ortformers::generation::detail {

struct Run {
  const models::GenerativeModel* model = nullptr;
  GenerationConfig config;  // prepared: max_length final, pad set
  const GenerateOptions* options = nullptr;
  std::unique_ptr<models::DecoderStep> state;
  TokenMatrix input_ids;        // decoder ids so far, expanded [rows, len]
  TokenMatrix attention_mask;   // decoder mask so far, expanded [rows, len]
  std::int64_t batch_size = 0;  // before expansion
  std::int64_t prompt_length = 0;
  std::int64_t vocab = 0;
  LogitsProcessorList processors;
  LogitsProcessorList warpers;
  std::optional<MaxTimeCriteria> max_time;
  std::optional<StopStringCriteria> stop_strings;
  std::optional<SamplingRng> rng;
  bool first_step = true;

  // Runs the model on the new tokens (the whole sequence at the first call, then the last column) and returns the
  // float32 logits [rows, vocab].
  std::vector<float> forward();
  // Appends one token per row (and a 1 to the mask).
  void append(const std::vector<std::int64_t>& tokens);
  // Reorders rows (beam search): the ids, the model cache; the mask stays (4.31 does not reorder it).
  void reorder(const std::vector<std::int64_t>& rows);
  bool stop_by_length_or_time() const;
  Tensor scores_tensor(const std::vector<float>& scores) const;
};

GenerateOutput greedy_or_sample(Run& run, bool sample);
GenerateOutput beam_search(Run& run, bool sample);
GenerateOutput group_beam_search(Run& run);

// The k best (value, flat index) of `values`, best first; equal values keep the lower index first.
void top_k_desc(const float* values, std::int64_t n, std::int64_t k, std::vector<float>& out_values,
                std::vector<std::int64_t>& out_indices);

}  // namespace ortformers::generation::detail
