#include "server/engine/incremental_decoder.hpp"

#include <algorithm>
#include <span>
#include <string_view>

namespace ortformers::server {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
bool ends_incomplete(const std::string& s) {
  return s.size() >= kReplacement.size() &&
         s.compare(s.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0;
}
}  // namespace

IncrementalDecoder::IncrementalDecoder(const tokenizers::PreTrainedTokenizer& tokenizer, bool skip_special_tokens,
                                       const std::vector<std::int64_t>& special_ids)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens), special_ids_(&special_ids) {}

std::string IncrementalDecoder::decode(std::size_t from, std::size_t to) const {
  if (to <= from) return {};
  return tokenizer_->decode(std::span<const std::int64_t>(ids_.data() + from, to - from), skip_special_, false);
}

bool IncrementalDecoder::skipped(std::int64_t id) const {
  return skip_special_ && std::binary_search(special_ids_->begin(), special_ids_->end(), id);
}

std::string IncrementalDecoder::step(std::int64_t id) {
  ids_.push_back(id);
  const std::string prefix = decode(prefix_offset_, read_offset_);
  const std::string text = decode(prefix_offset_, ids_.size());
  if (text.size() <= prefix.size() || ends_incomplete(text) || text.compare(0, prefix.size(), prefix) != 0) return {};
  std::string out = text.substr(prefix.size());
  // The next window starts at the first id not yet in a window, moved back over skipped ids to a printed one (a
  // window that starts with a skipped id would decode its second id as the first).
  std::size_t start = read_offset_;
  while (start > prefix_offset_ && start < ids_.size() && skipped(ids_[start])) --start;
  prefix_offset_ = start;
  read_offset_ = ids_.size();
  printed_ += out;
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  const std::string all = decode(0, ids_.size());
  if (all.compare(0, printed_.size(), printed_) == 0) {
    out = all.substr(printed_.size());
  } else {
    const std::string prefix = decode(prefix_offset_, read_offset_);
    const std::string text = decode(prefix_offset_, ids_.size());
    if (text.compare(0, prefix.size(), prefix) == 0) out = text.substr(prefix.size());
  }
  ids_.clear();
  printed_.clear();
  prefix_offset_ = read_offset_ = 0;
  return out;
}

}  // namespace ortformers::server
