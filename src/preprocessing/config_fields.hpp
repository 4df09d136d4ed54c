#pragma once
// Reading preprocessor_config.json fields (internal to the preprocessing stage).
#include <string>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::preprocessing::detail {

// j[key] as T, `fallback` when absent or null; FileFormatError naming the file and field for a wrong type.
template <class T>
T field(const Json& j, const char* key, T fallback, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const Json::exception&) {
    throw FileFormatError(source + ": field '" + key + "' has the wrong type: " + j.at(key).dump());
  }
}

}  // namespace ortformers::preprocessing::detail
