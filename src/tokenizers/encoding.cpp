#include "ortformers/tokenizers/encoding.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"

namespace ortformers::tokenizers {

const char* to_string(TruncationStrategy s) {
  switch (s) {
    case TruncationStrategy::LongestFirst: return "longest_first";
    case TruncationStrategy::OnlyFirst: return "only_first";
    case TruncationStrategy::OnlySecond: return "only_second";
  }
  return "?";
}

TruncationStrategy truncation_strategy_from_string(const std::string& s) {
  if (s == "longest_first" || s == "LongestFirst") return TruncationStrategy::LongestFirst;
  if (s == "only_first" || s == "OnlyFirst") return TruncationStrategy::OnlyFirst;
  if (s == "only_second" || s == "OnlySecond") return TruncationStrategy::OnlySecond;
  throw InvalidArgument("unknown truncation strategy '" + s + "' (longest_first, only_first, only_second)");
}

void Encoding::set_sequence_id(std::uint32_t id) {
  sequence_ranges.clear();
  sequence_ranges.push_back({id, {0, ids.size()}});
}

void Encoding::set_type_id(std::int64_t type_id) {
  std::fill(type_ids.begin(), type_ids.end(), type_id);
}

void Encoding::finalize_sequence_ids() {
  // As the Rust Encoding::get_sequence_ids: sequences 0..n (n = number of ranges, at least 1); a sequence without a
  // range covers the whole encoding.
  sequence_ids.assign(ids.size(), std::nullopt);
  const std::size_t n = sequence_ranges.empty() ? 1 : sequence_ranges.size();
  for (std::uint32_t id = 0; id < n; ++id) {
    std::pair<std::size_t, std::size_t> r{0, ids.size()};
    for (const auto& [sid, range] : sequence_ranges)
      if (sid == id) r = range;
    for (std::size_t i = r.first; i < r.second && i < ids.size(); ++i) sequence_ids[i] = id;
  }
  for (auto& o : overflowing) o.finalize_sequence_ids();
}

void Encoding::merge_with(Encoding pair, bool growing_offsets) {
  if (ids.empty() && overflowing.empty() && sequence_ranges.empty()) {
    *this = std::move(pair);  // an empty encoding merged with `pair` is `pair`
    return;
  }
  std::vector<Encoding> overflowings;
  for (const auto& self_o : overflowing) {
    Encoding n = self_o;
    n.merge_with(pair, growing_offsets);
    overflowings.push_back(std::move(n));
    for (const auto& other_o : pair.overflowing) {
      Encoding n2 = self_o;
      n2.merge_with(other_o, growing_offsets);
      overflowings.push_back(std::move(n2));
    }
  }
  for (const auto& other_o : pair.overflowing) {
    Encoding n = *this;
    n.merge_with(other_o, growing_offsets);
    overflowings.push_back(std::move(n));
  }
  const std::size_t len = ids.size();
  for (const auto& entry : pair.sequence_ranges) {
    const std::uint32_t id = entry.first;
    const auto& r = entry.second;
    auto it =
        std::find_if(sequence_ranges.begin(), sequence_ranges.end(), [id](const auto& x) { return x.first == id; });
    const std::pair<std::size_t, std::size_t> nr{len + r.first, len + r.second};
    if (it != sequence_ranges.end())
      it->second = nr;
    else
      sequence_ranges.push_back({id, nr});
  }
  ids.insert(ids.end(), pair.ids.begin(), pair.ids.end());
  type_ids.insert(type_ids.end(), pair.type_ids.begin(), pair.type_ids.end());
  tokens.insert(tokens.end(), std::make_move_iterator(pair.tokens.begin()), std::make_move_iterator(pair.tokens.end()));
  word_ids.insert(word_ids.end(), pair.word_ids.begin(), pair.word_ids.end());
  const std::size_t start_char = growing_offsets && !offsets.empty() ? offsets.back().second : 0;
  const std::size_t start_byte = growing_offsets && !byte_offsets.empty() ? byte_offsets.back().second : 0;
  for (const auto& o : pair.offsets) offsets.push_back({o.first + start_char, o.second + start_char});
  for (const auto& o : pair.byte_offsets) byte_offsets.push_back({o.first + start_byte, o.second + start_byte});
  special_tokens_mask.insert(special_tokens_mask.end(), pair.special_tokens_mask.begin(),
                             pair.special_tokens_mask.end());
  attention_mask.insert(attention_mask.end(), pair.attention_mask.begin(), pair.attention_mask.end());
  overflowing = std::move(overflowings);
}

Encoding Encoding::merge(std::vector<Encoding> encodings, bool growing_offsets) {
  Encoding out;
  for (auto& e : encodings) out.merge_with(std::move(e), growing_offsets);
  return out;
}

Encoding Encoding::slice(std::size_t start, std::size_t stop) const {
  Encoding e;
  const auto b = static_cast<std::ptrdiff_t>(start), s = static_cast<std::ptrdiff_t>(stop);
  e.ids.assign(ids.begin() + b, ids.begin() + s);
  e.type_ids.assign(type_ids.begin() + b, type_ids.begin() + s);
  e.tokens.assign(tokens.begin() + b, tokens.begin() + s);
  e.word_ids.assign(word_ids.begin() + b, word_ids.begin() + s);
  e.offsets.assign(offsets.begin() + b, offsets.begin() + s);
  e.byte_offsets.assign(byte_offsets.begin() + b, byte_offsets.begin() + s);
  e.special_tokens_mask.assign(special_tokens_mask.begin() + b, special_tokens_mask.begin() + s);
  e.attention_mask.assign(attention_mask.begin() + b, attention_mask.begin() + s);
  return e;
}

void Encoding::truncate(std::size_t max_len, std::size_t stride, TruncationDirection direction) {
  const std::size_t len = ids.size();
  if (max_len >= len) return;
  if (max_len == 0) {
    Encoding o = std::move(*this);
    *this = Encoding{};
    overflowing.push_back(std::move(o));
    return;
  }
  if (stride >= max_len)
    throw InvalidArgument("truncation: `stride` (" + std::to_string(stride) +
                          ") must be strictly less than `max_len=" + std::to_string(max_len) +
                          "` (max_len is the maximum length minus the special tokens the post-processor adds)");
  sequence_ranges.clear();
  const std::size_t step = max_len - stride;
  std::vector<std::pair<std::size_t, std::size_t>> parts;
  if (direction == TruncationDirection::Right) {
    for (std::size_t start = 0; start < len; start += step) {
      const std::size_t stop = std::min(start + max_len, len);
      parts.push_back({start, stop});
      if (stop == len) break;
    }
  } else {
    // (0..len).rev().step_by(step): stop - 1 takes values len-1, len-1-step, ...
    for (std::ptrdiff_t last = static_cast<std::ptrdiff_t>(len) - 1; last >= 0;
         last -= static_cast<std::ptrdiff_t>(step)) {
      const std::size_t stop = static_cast<std::size_t>(last) + 1;
      const std::size_t start = stop < max_len ? 0 : stop - max_len;
      if (start < stop) parts.push_back({start, stop});
      if (start == 0) break;
    }
  }
  Encoding n = slice(parts[0].first, parts[0].second);
  for (std::size_t i = 1; i < parts.size(); ++i) n.overflowing.push_back(slice(parts[i].first, parts[i].second));
  *this = std::move(n);
}

void Encoding::pad(std::size_t target, std::int64_t pad_id, std::int64_t pad_type_id, const std::string& pad_token,
                   PaddingDirection direction) {
  for (auto& o : overflowing) o.pad(target, pad_id, pad_type_id, pad_token, direction);
  if (ids.size() >= target) return;
  const std::size_t n = target - ids.size();
  if (direction == PaddingDirection::Left) {
    for (auto& [id, r] : sequence_ranges) r = {r.first + n, r.second + n};
    ids.insert(ids.begin(), n, pad_id);
    type_ids.insert(type_ids.begin(), n, pad_type_id);
    tokens.insert(tokens.begin(), n, pad_token);
    word_ids.insert(word_ids.begin(), n, std::nullopt);
    attention_mask.insert(attention_mask.begin(), n, 0);
    special_tokens_mask.insert(special_tokens_mask.begin(), n, 1);
    offsets.insert(offsets.begin(), n, {0, 0});
    byte_offsets.insert(byte_offsets.begin(), n, {0, 0});
  } else {
    ids.insert(ids.end(), n, pad_id);
    type_ids.insert(type_ids.end(), n, pad_type_id);
    tokens.insert(tokens.end(), n, pad_token);
    word_ids.insert(word_ids.end(), n, std::nullopt);
    attention_mask.insert(attention_mask.end(), n, 0);
    special_tokens_mask.insert(special_tokens_mask.end(), n, 1);
    offsets.insert(offsets.end(), n, {0, 0});
    byte_offsets.insert(byte_offsets.end(), n, {0, 0});
  }
  auto saved = std::move(overflowing);
  overflowing.clear();
  finalize_sequence_ids();  // as get_sequence_ids after padding in the Rust library
  overflowing = std::move(saved);
}

}  // namespace ortformers::tokenizers
