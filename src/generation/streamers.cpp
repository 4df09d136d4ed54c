// TextStreamer: transformers' TextStreamer over PreTrainedTokenizer::decode (positions in code points, as Python).
#include "ortformers/generation/streamers.hpp"

#include <algorithm>
#include <iostream>

#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::generation {
namespace {

// Byte offsets of each code point of a UTF-8 string (invalid bytes count as one code point each).
std::vector<std::size_t> code_point_offsets(const std::string& s) {
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < s.size();) {
    offsets.push_back(i);
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) len = 1;
    i += len;
  }
  return offsets;
}

char32_t code_point_at(const std::string& s, std::size_t offset, std::size_t end) {
  const auto c = static_cast<unsigned char>(s[offset]);
  const std::size_t len = end - offset;
  if (len == 1) return c;
  char32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[offset + k]) & 0x3F);
  return cp;
}

// transformers' TextStreamer._is_chinese_char (CJK Unified Ideographs blocks).
bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

std::string text_streamer_printable(const std::string& text, std::size_t& print_len, bool& flush_cache) {
  const auto offsets = code_point_offsets(text);
  const std::size_t n = offsets.size();
  auto byte_at = [&](std::size_t cp_index) { return cp_index >= n ? text.size() : offsets[cp_index]; };
  flush_cache = false;
  std::string printable;
  if (!text.empty() && text.back() == '\n') {
    // After a newline the cache is flushed.
    printable = text.substr(byte_at(print_len));
    flush_cache = true;
    print_len = 0;
    return printable;
  }
  if (n == 0) return printable;
  const char32_t last = code_point_at(text, offsets[n - 1], text.size());
  if (last == 0xFFFD) return printable;  // an incomplete UTF-8 sequence: wait for the next token
  if (is_chinese_char(last)) {
    printable = text.substr(byte_at(print_len));
    print_len = n;
    return printable;
  }
  // Up to (and including) the last space.
  const auto space = text.rfind(' ');
  std::size_t end_cp = 0;
  if (space != std::string::npos) {
    end_cp = static_cast<std::size_t>(std::upper_bound(offsets.begin(), offsets.end(), space) - offsets.begin());
  }
  if (end_cp > print_len) {
    printable = text.substr(byte_at(print_len), byte_at(end_cp) - byte_at(print_len));
    print_len = end_cp;
  }
  return printable;
}

TextStreamer::TextStreamer(const tokenizers::PreTrainedTokenizer& tokenizer, bool skip_prompt,
                           bool skip_special_tokens, std::ostream* out)
    : tokenizer_(tokenizer), skip_prompt_(skip_prompt), skip_special_tokens_(skip_special_tokens),
      out_(out ? out : &std::cout) {}

void TextStreamer::put(std::span<const std::int64_t> value) {
  if (skip_prompt_ && next_tokens_are_prompt_) {
    next_tokens_are_prompt_ = false;
    return;
  }
  next_tokens_are_prompt_ = false;
  token_cache_.insert(token_cache_.end(), value.begin(), value.end());
  const std::string text = tokenizer_.decode(token_cache_, skip_special_tokens_);
  bool flush = false;
  const std::string printable = text_streamer_printable(text, print_len_, flush);
  if (flush) token_cache_.clear();
  on_finalized_text(printable, false);
}

void TextStreamer::end() {
  std::string printable;
  if (!token_cache_.empty()) {
    const std::string text = tokenizer_.decode(token_cache_, skip_special_tokens_);
    const auto offsets = code_point_offsets(text);
    printable = print_len_ >= offsets.size() ? std::string() : text.substr(offsets[print_len_]);
    token_cache_.clear();
    print_len_ = 0;
  }
  next_tokens_are_prompt_ = true;
  on_finalized_text(printable, true);
}

void TextStreamer::on_finalized_text(const std::string& text, bool stream_end) {
  *out_ << text;
  if (stream_end) *out_ << '\n';
  out_->flush();
}

}  // namespace ortformers::generation
