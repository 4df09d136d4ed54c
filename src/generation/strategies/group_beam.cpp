// group_beam_search of transformers 4.31 (diverse beam search): the beams of each batch entry split into
// num_beam_groups groups decoded one after the other within a step, HammingDiversityLogitsProcessor penalising the
// tokens earlier groups chose. beam_indices follow 4.31's bookkeeping (per group, concatenated group by group).
#include <algorithm>

#include "ortformers/core/error.hpp"
#include "generation/strategies/common.hpp"

namespace ortformers::generation::detail {

GenerateOutput group_beam_search(Run& run) {
  const auto& c = run.config;
  const auto num_beams = c.num_beams;
  const auto num_groups = c.num_beam_groups;
  const auto sub = num_beams / num_groups;
  const auto rows = run.input_ids.rows;
  const auto batch_size = rows / num_beams;
  const auto vocab = run.vocab;
  const auto& eos = c.eos_token_id;
  BeamSearchScorer scorer(batch_size, num_beams, c.length_penalty, c.early_stopping, c.num_return_sequences,
                          num_groups, c.max_length);
  std::vector<float> beam_scores(static_cast<std::size_t>(rows), -1e9f);
  for (std::int64_t b = 0; b < batch_size; ++b)
    for (std::int64_t j = 0; j < num_beams; j += sub) beam_scores[static_cast<std::size_t>(b * num_beams + j)] = 0.0f;
  std::vector<std::vector<std::vector<std::int64_t>>> beam_indices(
      static_cast<std::size_t>(num_groups), std::vector<std::vector<std::int64_t>>(static_cast<std::size_t>(sub * batch_size)));
  auto concat = [&] {
    std::vector<std::vector<std::int64_t>> all;
    for (const auto& g : beam_indices) all.insert(all.end(), g.begin(), g.end());
    return all;
  };
  const std::int64_t n_eos = static_cast<std::int64_t>(eos.size());
  GenerateOutput out;
  while (true) {
    std::vector<std::int64_t> current_tokens(static_cast<std::size_t>(rows), 0);
    std::vector<std::int64_t> reordering(static_cast<std::size_t>(rows), 0);
    std::vector<float> logits = run.forward();
    std::vector<float> processed_all(logits.size(), 0.0f);
    for (std::int64_t g = 0; g < num_groups; ++g) {
      const auto start = g * sub;
      const auto end = std::min(start + sub, num_beams);
      const auto group_size = end - start;
      std::vector<std::int64_t> group_rows;
      for (std::int64_t b = 0; b < batch_size; ++b)
        for (std::int64_t j = start; j < end; ++j) group_rows.push_back(b * num_beams + j);
      const auto n = static_cast<std::int64_t>(group_rows.size());
      TokenMatrix group_ids;
      group_ids.rows = n;
      group_ids.cols = run.input_ids.cols;
      for (auto r : group_rows) {
        auto row = run.input_ids.row(r);
        group_ids.data.insert(group_ids.data.end(), row.begin(), row.end());
      }
      std::vector<float> processed(static_cast<std::size_t>(n * vocab));
      for (std::int64_t i = 0; i < n; ++i)
        log_softmax(logits.data() + group_rows[static_cast<std::size_t>(i)] * vocab, processed.data() + i * vocab, vocab);
      run.processors(group_ids, ScoresRef{processed.data(), n, vocab}, ProcessorContext{current_tokens, g});
      for (std::int64_t i = 0; i < n; ++i)
        std::copy(processed.begin() + i * vocab, processed.begin() + (i + 1) * vocab,
                  processed_all.begin() + group_rows[static_cast<std::size_t>(i)] * vocab);
      std::vector<float> total(processed.size());
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t v = 0; v < vocab; ++v)
          total[static_cast<std::size_t>(i * vocab + v)] =
              processed[static_cast<std::size_t>(i * vocab + v)] +
              beam_scores[static_cast<std::size_t>(group_rows[static_cast<std::size_t>(i)])];
      const std::int64_t k = std::max<std::int64_t>(2, 1 + n_eos) * group_size;
      std::vector<float> cand_scores;
      std::vector<std::int64_t> cand_tokens, cand_indices;
      for (std::int64_t b = 0; b < batch_size; ++b) {
        std::vector<float> values;
        std::vector<std::int64_t> indices;
        top_k_desc(total.data() + b * group_size * vocab, group_size * vocab, k, values, indices);
        for (std::size_t i = 0; i < indices.size(); ++i) {
          cand_scores.push_back(values[i]);
          cand_tokens.push_back(indices[i] % vocab);
          cand_indices.push_back(indices[i] / vocab);
        }
      }
      const auto process_indices = concat();
      BeamStepOutput step = scorer.process(group_ids, cand_scores, cand_tokens, cand_indices, k, c.pad_token_id, eos,
                                           &process_indices, g);
      auto& group_hist = beam_indices[static_cast<std::size_t>(g)];
      std::vector<std::vector<std::int64_t>> new_hist;
      for (std::size_t i = 0; i < group_hist.size(); ++i) {
        const auto from = step.next_beam_indices[i];
        auto h = group_hist[static_cast<std::size_t>(from)];
        h.push_back(from);
        new_hist.push_back(std::move(h));
      }
      group_hist = std::move(new_hist);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto dst = group_rows[static_cast<std::size_t>(i)];
        const auto from = step.next_beam_indices[static_cast<std::size_t>(i)];
        beam_scores[static_cast<std::size_t>(dst)] = step.next_beam_scores[static_cast<std::size_t>(i)];
        auto src = group_ids.row(from);
        std::copy(src.begin(), src.end(), run.input_ids.data.begin() + dst * run.input_ids.cols);
        current_tokens[static_cast<std::size_t>(dst)] = step.next_beam_tokens[static_cast<std::size_t>(i)];
        reordering[static_cast<std::size_t>(dst)] = num_beams * (from / group_size) + start + (from % group_size);
      }
    }
    if (c.output_scores) out.scores.push_back(run.scores_tensor(processed_all));
    run.append(current_tokens);
    run.state->select_rows(reordering);
    if (scorer.is_done() || run.stop_by_length_or_time()) break;
  }
  const auto final_indices = concat();
  BeamSearchOutput result = scorer.finalize(run.input_ids, beam_scores, c.pad_token_id, eos, c.max_length, &final_indices);
  out.sequences = Tensor::from_vector<std::int64_t>(result.sequences.data, {result.sequences.rows, result.sequences.cols});
  out.sequences_scores = Tensor::from_vector<float>(result.sequence_scores, {result.sequences.rows});
  out.beam_indices = Tensor::from_vector<std::int64_t>(result.beam_indices.data, {result.beam_indices.rows, result.beam_indices.cols});
  out.stop_strings_found.assign(static_cast<std::size_t>(result.sequences.rows), "");
  return out;
}

}  // namespace ortformers::generation::detail
