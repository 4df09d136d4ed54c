// greedy_search and sample of transformers 4.31 (one token per row per step; finished rows get pad_token_id).
#include <algorithm>

#include "ortformers/core/error.hpp"
#include "generation/strategies/common.hpp"

namespace ortformers::generation::detail {

GenerateOutput greedy_or_sample(Run& run, bool sample) {
  const auto rows = run.input_ids.rows;
  const auto vocab = run.vocab;
  const auto& eos = run.config.eos_token_id;
  const bool stop_rows = !eos.empty() || run.stop_strings;
  GenerateOutput out;
  out.stop_strings_found.assign(static_cast<std::size_t>(rows), "");
  std::vector<bool> unfinished(static_cast<std::size_t>(rows), true);
  BaseStreamer* streamer = run.options->streamer;
  if (streamer) streamer->put(run.input_ids.row(0));
  std::vector<float> probs(static_cast<std::size_t>(vocab));
  while (true) {
    std::vector<float> scores = run.forward();
    ScoresRef ref{scores.data(), rows, vocab};
    run.processors(run.input_ids, ref);
    if (sample) run.warpers(run.input_ids, ref);
    if (run.config.output_scores) out.scores.push_back(run.scores_tensor(scores));
    std::vector<std::int64_t> next(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* row = ref.row(r);
      std::int64_t token;
      if (sample) {
        softmax(row, probs.data(), vocab);
        token = run.rng->categorical(probs);
      } else {
        token = std::max_element(row, row + vocab) - row;  // the first maximum, as torch.argmax
      }
      if (stop_rows && !unfinished[static_cast<std::size_t>(r)]) token = *run.config.pad_token_id;
      next[static_cast<std::size_t>(r)] = token;
    }
    run.append(next);
    if (streamer) streamer->put(std::span<const std::int64_t>(&next[0], 1));
    for (std::int64_t r = 0; r < rows; ++r) {
      auto i = static_cast<std::size_t>(r);
      if (!unfinished[i]) continue;
      if (is_eos_token(next[i], eos)) unfinished[i] = false;
      if (unfinished[i] && run.stop_strings) {
        auto row = run.input_ids.row(r).subspan(static_cast<std::size_t>(run.prompt_length));
        std::string match;
        if ((*run.stop_strings)(row, &match)) {
          unfinished[i] = false;
          out.stop_strings_found[i] = match;
        }
      }
    }
    const bool all_done = std::none_of(unfinished.begin(), unfinished.end(), [](bool u) { return u; });
    if (all_done || run.stop_by_length_or_time()) break;
  }
  if (streamer) streamer->end();
  out.sequences = Tensor::from_vector<std::int64_t>(run.input_ids.data, {run.input_ids.rows, run.input_ids.cols});
  return out;
}

}  // namespace ortformers::generation::detail
