#include "ortformers/tokenizers/decode_stream.hpp"

namespace ortformers::tokenizers {

DecodeStream::DecodeStream(const PreTrainedTokenizer& tokenizer, bool skip_special_tokens,
                           std::optional<bool> clean_up_tokenization_spaces)
    : tokenizer_(&tokenizer),
      skip_special_tokens_(skip_special_tokens),
      clean_up_(clean_up_tokenization_spaces.value_or(tokenizer.clean_up_tokenization_spaces())) {}

std::string DecodeStream::decode_all() const {
  return tokenizer_->decode(ids_, skip_special_tokens_, clean_up_);
}

std::string DecodeStream::step(std::int64_t id) {
  ids_.push_back(id);
  const std::string text = decode_all();
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  if (text.size() >= kReplacement.size() &&
      text.compare(text.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
    return {};
  std::size_t stable = text.size();
  if (clean_up_) {
    // clean_up_tokenization only removes spaces that start one of its patterns (" .", " n't", " ' ", ...): text
    // before the last space is final unless that space ends " ' ".
    const std::size_t sp = text.rfind(' ');
    if (sp != std::string::npos) {
      stable = sp;
      if (sp >= 2 && text[sp - 1] == '\'' && text[sp - 2] == ' ') stable = sp - 2;
    }
  }
  const std::size_t from = resume_point(text);
  if (stable <= from) return {};
  std::string out = text.substr(from, stable - from);
  printed_ = text.substr(0, stable);
  return out;
}

std::size_t DecodeStream::resume_point(const std::string& text) const {
  if (text.compare(0, printed_.size(), printed_) == 0) return printed_.size();
  // The decode changed text already returned. This happens only where the slow tokenizer rewrites earlier text:
  // LlamaTokenizer's / T5Tokenizer's convert_tokens_to_string put a space before the text that precedes a special token, which a
  // stream cannot take back (skip_special_tokens=true never does this). Go on after the returned text, read as a
  // subsequence of the new decode.
  std::size_t j = 0;
  for (char c : printed_) {
    while (j < text.size() && text[j] != c) ++j;
    if (j == text.size()) return text.size();
    ++j;
  }
  return j;
}

std::string DecodeStream::flush() {
  const std::string text = decode_all();
  std::string out = text.substr(resume_point(text));
  ids_.clear();
  printed_.clear();
  return out;
}

}  // namespace ortformers::tokenizers
