#pragma once
// What the generation route tests read from answers: the events of a server-sent-events body and TGI's token ids.
#include <cstdint>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

// The data lines of a server-sent-events body.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const auto end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    std::string event = body.substr(at, end - at);
    if (event.rfind("data: ", 0) == 0) out.push_back(event.substr(6));
    at = end + 2;
  }
  return out;
}

// The ids of TGI's `details.tokens`.
inline std::vector<std::int64_t> token_ids(const Json& details) {
  std::vector<std::int64_t> ids;
  for (const auto& t : details.at("tokens")) ids.push_back(t.at("id").get<std::int64_t>());
  return ids;
}

}  // namespace ortformers::testing
