// Stopping criteria: max time (max length is a comparison), end-of-sequence ids, stop strings.
#include "ortformers/generation/stopping_criteria.hpp"

#include <algorithm>

namespace ortformers::generation {

bool MaxTimeCriteria::operator()() const {
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  return elapsed.count() > max_time_;
}

bool is_eos_token(std::int64_t token, std::span<const std::int64_t> eos_token_id) {
  return std::find(eos_token_id.begin(), eos_token_id.end(), token) != eos_token_id.end();
}

StopStringCriteria::StopStringCriteria(std::vector<std::string> stop_strings, Decode decode)
    : stop_strings_(std::move(stop_strings)), decode_(std::move(decode)) {
  std::erase_if(stop_strings_, [](const std::string& s) { return s.empty(); });
}

bool StopStringCriteria::operator()(std::span<const std::int64_t> new_tokens, std::string* match) const {
  if (stop_strings_.empty() || !decode_) return false;
  const std::string text = decode_(new_tokens);
  for (const auto& s : stop_strings_)
    if (text.find(s) != std::string::npos) {
      if (match) *match = s;
      return true;
    }
  return false;
}

}  // namespace ortformers::generation
