// SequenceBiasLogitsProcessor and NoBadWordsLogitsProcessor (a SequenceBiasLogitsProcessor with -inf biases, as in
// transformers 4.31): a bias is added to a sequence's last token when the context ends with the rest of it.
#include <algorithm>

#include "generation/processors/common.hpp"

namespace ortformers::generation {

SequenceBiasLogitsProcessor::SequenceBiasLogitsProcessor(
    std::vector<std::pair<std::vector<std::int64_t>, double>> sequence_bias) {
  if (sequence_bias.empty()) throw InvalidArgument("`sequence_bias` has to be a non-empty dictionary, but is {}.");
  for (auto& [ids, bias] : sequence_bias) {
    if (ids.empty() || std::any_of(ids.begin(), ids.end(), [](auto t) { return t < 0; }))
      throw InvalidArgument("`sequence_bias` has to be a dictionary with tuples of positive integers as keys, but "
                            "has the key " + detail::py_list(ids) + ".");
    // A repeated key replaces the earlier value (a Python dict keeps one entry per key).
    auto it = std::find_if(sequence_bias_.begin(), sequence_bias_.end(), [&](const auto& e) { return e.first == ids; });
    if (it != sequence_bias_.end()) it->second = static_cast<float>(bias);
    else sequence_bias_.emplace_back(ids, static_cast<float>(bias));
  }
}

void SequenceBiasLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                             const ProcessorContext&) const {
  std::vector<std::int64_t> invalid;
  for (const auto& [ids, bias] : sequence_bias_)
    for (auto t : ids)
      if (t >= scores.vocab) invalid.push_back(t);
  if (!invalid.empty())
    throw InvalidArgument("The model vocabulary size is " + std::to_string(scores.vocab) +
                          ", but the following tokens were being biased: " + detail::py_list(invalid));
  std::vector<float> bias(static_cast<std::size_t>(scores.vocab));
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    std::fill(bias.begin(), bias.end(), 0.0f);
    // length-1 biases first (the last one of a token wins, as the tensor assignment does), then the longer ones.
    for (const auto& [ids, b] : sequence_bias_)
      if (ids.size() == 1) bias[static_cast<std::size_t>(ids[0])] = b;
    auto context = input_ids.row(r);
    for (const auto& [ids, b] : sequence_bias_) {
      if (ids.size() == 1 || ids.size() > context.size()) continue;
      const auto prefix = ids.size() - 1;
      const bool match = std::equal(ids.begin(), ids.end() - 1, context.end() - static_cast<std::ptrdiff_t>(prefix));
      bias[static_cast<std::size_t>(ids.back())] += match ? b : 0.0f;
    }
    float* row = scores.row(r);
    for (std::int64_t v = 0; v < scores.vocab; ++v) row[v] = row[v] + bias[static_cast<std::size_t>(v)];
  }
}

NoBadWordsLogitsProcessor::NoBadWordsLogitsProcessor(const std::vector<std::vector<std::int64_t>>& bad_words_ids,
                                                     const std::vector<std::int64_t>& eos_token_id) {
  auto repr = [&] {
    std::string s = "[";
    for (std::size_t i = 0; i < bad_words_ids.size(); ++i) s += (i ? ", " : "") + detail::py_list(bad_words_ids[i]);
    return s + "]";
  };
  if (bad_words_ids.empty()) throw InvalidArgument("`bad_words_ids` has to be a non-empty list, but is [].");
  for (const auto& seq : bad_words_ids)
    for (auto t : seq)
      if (t < 0)
        throw InvalidArgument("Each list in `bad_words_ids` has to be a list of positive integers, but is " + repr() +
                              ".");
  for (const auto& seq : bad_words_ids) {
    // Forbidding an end-of-sequence id on its own is dropped, as transformers does.
    if (seq.size() == 1 && std::find(eos_token_id.begin(), eos_token_id.end(), seq[0]) != eos_token_id.end()) continue;
    if (seq.empty()) continue;
    auto it = std::find_if(sequence_bias_.begin(), sequence_bias_.end(), [&](const auto& e) { return e.first == seq; });
    if (it == sequence_bias_.end()) sequence_bias_.emplace_back(seq, detail::kNegInf);
  }
}

}  // namespace ortformers::generation
