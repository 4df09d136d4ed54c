#pragma once
// Helpers shared by the processor files (not installed).
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/generation/logits_processors.hpp"

namespace ortformers::generation::detail {

inline constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline void check_token(std::int64_t token, std::int64_t vocab, const char* what) {
  if (token < 0 || token >= vocab)
    throw InvalidArgument(std::string(what) + ": token id " + std::to_string(token) +
                          " is outside the vocabulary (size " + std::to_string(vocab) + ")");
}

inline std::string py_list(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

inline void check_eos_list(const std::vector<std::int64_t>& eos) {
  for (auto e : eos)
    if (e < 0) throw InvalidArgument("`eos_token_id` has to be a list of positive integers, but is " + py_list(eos));
}

inline void check_min_tokens_to_keep(std::int64_t n) {
  if (n < 1)
    throw InvalidArgument("`min_tokens_to_keep` has to be a strictly positive integer, but is " + std::to_string(n));
}

inline std::string py_float(double d) {
  std::string s = format_double(d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace ortformers::generation::detail
