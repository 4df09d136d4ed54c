// NoRepeatNGramLogitsProcessor, EncoderNoRepeatNGramLogitsProcessor (fairseq's n-gram blocking).
#include <map>

#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

using NGrams = std::map<std::vector<std::int64_t>, std::vector<std::int64_t>>;

NGrams ngrams_of(std::span<const std::int64_t> tokens, std::int64_t n) {
  NGrams out;
  const auto len = static_cast<std::int64_t>(tokens.size());
  for (std::int64_t i = 0; i + n <= len; ++i) {
    std::vector<std::int64_t> prefix(tokens.begin() + i, tokens.begin() + i + n - 1);
    out[std::move(prefix)].push_back(tokens[static_cast<std::size_t>(i + n - 1)]);
  }
  return out;
}

// The tokens banned after `tokens` (its last n-1 tokens as the prefix).
const std::vector<std::int64_t>* banned_after(const NGrams& grams, std::span<const std::int64_t> tokens,
                                              std::int64_t n) {
  const auto cur_len = static_cast<std::int64_t>(tokens.size());
  const auto start = cur_len + 1 - n;
  if (start < 0) return nullptr;
  std::vector<std::int64_t> prefix(tokens.begin() + start, tokens.end());
  auto it = grams.find(prefix);
  return it == grams.end() ? nullptr : &it->second;
}

void ban(const std::vector<std::int64_t>* tokens, float* row, std::int64_t vocab, const char* what) {
  if (!tokens) return;
  for (auto t : *tokens) {
    detail::check_token(t, vocab, what);
    row[t] = detail::kNegInf;
  }
}

}  // namespace

NoRepeatNGramLogitsProcessor::NoRepeatNGramLogitsProcessor(std::int64_t ngram_size) : ngram_size_(ngram_size) {
  if (ngram_size <= 0)
    throw InvalidArgument("`ngram_size` has to be a strictly positive integer, but is " + std::to_string(ngram_size));
}

void NoRepeatNGramLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                              const ProcessorContext&) const {
  const auto cur_len = input_ids.cols;
  if (cur_len + 1 < ngram_size_) return;
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    auto tokens = input_ids.row(r);
    NGrams grams = ngrams_of(tokens, ngram_size_);
    ban(banned_after(grams, tokens, ngram_size_), scores.row(r), scores.vocab, "NoRepeatNGramLogitsProcessor");
  }
}

EncoderNoRepeatNGramLogitsProcessor::EncoderNoRepeatNGramLogitsProcessor(std::int64_t encoder_ngram_size,
                                                                         TokenMatrix encoder_input_ids)
    : ngram_size_(encoder_ngram_size), encoder_input_ids_(std::move(encoder_input_ids)) {
  if (encoder_ngram_size <= 0)
    throw InvalidArgument("`encoder_ngram_size` has to be a strictly positive integer, but is " +
                          std::to_string(encoder_ngram_size));
}

void EncoderNoRepeatNGramLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                                     const ProcessorContext&) const {
  const auto enc_rows = encoder_input_ids_.rows;
  if (enc_rows == 0) return;
  if (scores.rows % enc_rows != 0)
    throw InvalidArgument("EncoderNoRepeatNGramLogitsProcessor: " + std::to_string(scores.rows) +
                          " score rows do not expand " + std::to_string(enc_rows) + " encoder rows");
  const auto num_hypos = scores.rows / enc_rows;
  std::vector<NGrams> grams;
  for (std::int64_t b = 0; b < enc_rows; ++b) grams.push_back(ngrams_of(encoder_input_ids_.row(b), ngram_size_));
  for (std::int64_t r = 0; r < scores.rows; ++r)
    ban(banned_after(grams[static_cast<std::size_t>(r / num_hypos)], input_ids.row(r), ngram_size_), scores.row(r),
        scores.vocab, "EncoderNoRepeatNGramLogitsProcessor");
}

}  // namespace ortformers::generation
