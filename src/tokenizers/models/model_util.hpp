#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/models.hpp"

namespace ortformers::tokenizers {

inline std::vector<std::string> reverse_vocab(const Vocab& v) {
  std::int64_t max_id = -1;
  for (const auto& [k, id] : v) {
    if (id < 0) throw FileFormatError("tokenizer.json: negative id " + std::to_string(id) + " for token '" + k + "'");
    max_id = std::max(max_id, id);
  }
  if (max_id > 50'000'000)
    throw FileFormatError("tokenizer.json: vocabulary id " + std::to_string(max_id) + " is too large");
  std::vector<std::string> r(static_cast<std::size_t>(max_id + 1));
  for (const auto& [k, id] : v) r[static_cast<std::size_t>(id)] = k;
  return r;
}
inline std::optional<std::int64_t> lookup(const Vocab& v, std::string_view t) {
  auto it = v.find(t);
  if (it == v.end()) return std::nullopt;
  return it->second;
}
inline std::optional<std::string> lookup_r(const std::vector<std::string>& r, std::int64_t id) {
  if (id < 0 || static_cast<std::size_t>(id) >= r.size()) return std::nullopt;
  return r[static_cast<std::size_t>(id)];
}
Vocab vocab_from_json(const Json& j, const char* where);

}  // namespace ortformers::tokenizers
