#pragma once
// Internal helpers to read tokenizer.json fields with errors naming the field.
#include <string>
#include <utility>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::tokenizers::json_util {

inline std::string get_string(const Json& j, const char* key, const char* where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    throw FileFormatError(std::string("tokenizer.json: ") + where + ": missing or non-string field '" + key + "'");
  return j[key].get<std::string>();
}
inline std::string get_string_or(const Json& j, const char* key, const std::string& dflt) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return dflt;
  return j[key].get<std::string>();
}
inline bool get_bool(const Json& j, const char* key, bool dflt) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_boolean()) return dflt;
  return j[key].get<bool>();
}
inline const Json& get_array(const Json& j, const char* key, const char* where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_array())
    throw FileFormatError(std::string("tokenizer.json: ") + where + ": missing or non-array field '" + key + "'");
  return j[key];
}
// {"pattern": {"String": s}} or {"pattern": {"Regex": r}} -> (text, is_regex)
inline std::pair<std::string, bool> get_pattern(const Json& j, const char* where) {
  if (!j.contains("pattern") || !j["pattern"].is_object())
    throw FileFormatError(std::string("tokenizer.json: ") + where + ": missing field 'pattern'");
  const Json& p = j["pattern"];
  if (p.contains("String") && p["String"].is_string()) return {p["String"].get<std::string>(), false};
  if (p.contains("Regex") && p["Regex"].is_string()) return {p["Regex"].get<std::string>(), true};
  throw FileFormatError(std::string("tokenizer.json: ") + where +
                        ": 'pattern' must be {\"String\": ...} or {\"Regex\": ...}");
}
std::string base64_decode(const std::string& in);

}  // namespace ortformers::tokenizers::json_util
