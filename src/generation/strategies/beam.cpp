// beam_search and beam_sample of transformers 4.31: per step, log-softmax, processors (the returned scores), plus the
// running beam score; the best (or sampled) candidates go through BeamSearchScorer.process.
#include <algorithm>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "generation/strategies/common.hpp"

namespace ortformers::generation::detail {

GenerateOutput beam_search(Run& run, bool sample) {
  const auto& c = run.config;
  const auto num_beams = c.num_beams;
  const auto rows = run.input_ids.rows;
  const auto batch_size = rows / num_beams;  // beam_sample: batch * num_return_sequences
  const auto vocab = run.vocab;
  const auto& eos = c.eos_token_id;
  const std::int64_t keep = sample ? 1 : c.num_return_sequences;
  BeamSearchScorer scorer(batch_size, num_beams, c.length_penalty, c.early_stopping, keep, 1, c.max_length);
  std::vector<float> beam_scores(static_cast<std::size_t>(rows), 0.0f);
  for (std::int64_t b = 0; b < batch_size; ++b)
    for (std::int64_t j = 1; j < num_beams; ++j) beam_scores[static_cast<std::size_t>(b * num_beams + j)] = -1e9f;
  std::vector<std::vector<std::int64_t>> beam_indices(static_cast<std::size_t>(rows));
  const std::int64_t n_eos = static_cast<std::int64_t>(eos.size());
  const std::int64_t k = std::max<std::int64_t>(2, 1 + n_eos) * num_beams;
  GenerateOutput out;
  while (true) {
    std::vector<float> logits = run.forward();
    std::vector<float> processed(logits.size());
    for (std::int64_t r = 0; r < rows; ++r)
      log_softmax(logits.data() + r * vocab, processed.data() + r * vocab, vocab);
    run.processors(run.input_ids, ScoresRef{processed.data(), rows, vocab});
    std::vector<float> total(processed.size());
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t v = 0; v < vocab; ++v)
        total[static_cast<std::size_t>(r * vocab + v)] =
            processed[static_cast<std::size_t>(r * vocab + v)] + beam_scores[static_cast<std::size_t>(r)];
    if (sample) {
      run.warpers(run.input_ids, ScoresRef{total.data(), rows, vocab});
      if (c.output_scores) {
        std::vector<float> warped = processed;
        run.warpers(run.input_ids, ScoresRef{warped.data(), rows, vocab});
        out.scores.push_back(run.scores_tensor(warped));
      }
    } else if (c.output_scores) {
      out.scores.push_back(run.scores_tensor(processed));
    }
    // Candidates per batch entry over its num_beams * vocab scores.
    std::vector<float> cand_scores;
    std::vector<std::int64_t> cand_tokens, cand_indices;
    const auto width = num_beams * vocab;
    std::int64_t per_batch = sample ? 2 * num_beams : k;
    for (std::int64_t b = 0; b < batch_size; ++b) {
      const float* flat = total.data() + b * width;
      std::vector<float> values;
      std::vector<std::int64_t> indices;
      if (sample) {
        std::vector<float> probs(static_cast<std::size_t>(width));
        softmax(flat, probs.data(), width);
        indices = run.rng->multinomial_without_replacement(probs, per_batch);
        for (auto i : indices) values.push_back(flat[i]);
        std::vector<std::size_t> order(indices.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto d) { return values[a] > values[d]; });
        std::vector<float> sv;
        std::vector<std::int64_t> si;
        for (auto o : order) {
          sv.push_back(values[o]);
          si.push_back(indices[o]);
        }
        values = std::move(sv);
        indices = std::move(si);
      } else {
        top_k_desc(flat, width, per_batch, values, indices);
      }
      for (std::size_t i = 0; i < indices.size(); ++i) {
        cand_scores.push_back(values[i]);
        cand_tokens.push_back(indices[i] % vocab);
        cand_indices.push_back(indices[i] / vocab);
      }
    }
    BeamStepOutput step = scorer.process(run.input_ids, cand_scores, cand_tokens, cand_indices, per_batch,
                                         c.pad_token_id, eos, &beam_indices);
    beam_scores = step.next_beam_scores;
    std::vector<std::vector<std::int64_t>> new_indices;
    for (auto i : step.next_beam_indices) {
      auto hist = beam_indices[static_cast<std::size_t>(i)];
      hist.push_back(i);
      new_indices.push_back(std::move(hist));
    }
    beam_indices = std::move(new_indices);
    run.reorder(step.next_beam_indices);
    run.append(step.next_beam_tokens);
    if (scorer.is_done() || run.stop_by_length_or_time()) break;
  }
  BeamSearchOutput result = scorer.finalize(run.input_ids, beam_scores, c.pad_token_id, eos, c.max_length, &beam_indices);
  out.sequences = Tensor::from_vector<std::int64_t>(result.sequences.data, {result.sequences.rows, result.sequences.cols});
  out.sequences_scores = Tensor::from_vector<float>(result.sequence_scores, {result.sequences.rows});
  out.beam_indices = Tensor::from_vector<std::int64_t>(result.beam_indices.data, {result.beam_indices.rows, result.beam_indices.cols});
  out.stop_strings_found.assign(static_cast<std::size_t>(result.sequences.rows), "");
  return out;
}

}  // namespace ortformers::generation::detail
