#pragma once
// Helpers for the tokenizer parity tests: an Encoding as the JSON the fixtures use, and a field-by-field comparison.
#include <sstream>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/encoding.hpp"

namespace ortformers::tokenizers::testing {

inline Json optional_list(const std::vector<std::optional<std::uint32_t>>& v) {
  Json a = Json::array();
  for (const auto& x : v) a.push_back(x ? Json(*x) : Json(nullptr));
  return a;
}

inline Json to_json(const Encoding& e, bool with_overflowing = true) {
  Json j;
  j["ids"] = e.ids;
  j["tokens"] = e.tokens;
  Json off = Json::array();
  for (const auto& [s, t] : e.offsets) off.push_back({s, t});
  j["offsets"] = off;
  j["type_ids"] = e.type_ids;
  j["attention_mask"] = e.attention_mask;
  j["special_tokens_mask"] = e.special_tokens_mask;
  j["word_ids"] = optional_list(e.word_ids);
  j["sequence_ids"] = optional_list(e.sequence_ids);
  j["n_overflowing"] = e.overflowing.size();
  if (with_overflowing) {
    Json o = Json::array();
    for (const auto& x : e.overflowing) o.push_back(to_json(x));
    j["overflowing"] = o;
  }
  return j;
}

// Compares the keys present in `expected` (except `skip`); returns an empty string when equal, else a description.
inline std::string compare_encoding(const Json& expected, const Json& actual, std::size_t max_overflowing = 1000) {
  std::ostringstream out;
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const std::string& k = it.key();
    if (k == "decode") continue;
    if (k == "overflowing") {
      const Json& eo = it.value();
      const Json& ao = actual["overflowing"];
      for (std::size_t i = 0; i < eo.size() && i < max_overflowing; ++i) {
        if (i >= ao.size()) {
          out << "overflowing[" << i << "] missing; ";
          break;
        }
        const std::string d = compare_encoding(eo[i], ao[i], max_overflowing);
        if (!d.empty()) out << "overflowing[" << i << "]: " << d;
      }
      continue;
    }
    if (!actual.contains(k)) continue;
    if (expected[k] != actual[k])
      out << k << ": expected " << expected[k].dump() << " got " << actual[k].dump() << "; ";
  }
  return out.str();
}

}  // namespace ortformers::tokenizers::testing
