// libFuzzer: arbitrary bytes as the body of every route of `ortformers serve`. Parsing and type-checking must either
// give a typed request or throw ServerError (which the API answers 4xx); nothing else may escape, nothing may crash.
// The first byte picks the route.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api/requests.hpp"
#include "server/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers::server;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto json = parse_body(body);
    switch (data[0] % 8) {
      case 0: {
        auto r = parse_embed_request(json);
        for (const auto& i : r.inputs) (void)(i.is_ids ? i.ids.size() : i.text.size());
        break;
      }
      case 1: (void)parse_openai_request(json); break;
      case 2: (void)parse_predict_request(json); break;
      case 3: (void)parse_rerank_request(json); break;
      case 4: (void)parse_similarity_request(json); break;
      case 5: (void)parse_tokenize_request(json); break;
      case 6: (void)parse_decode_request(json); break;
      default: (void)parse_pipeline_request(json); break;
    }
  } catch (const ServerError&) {
  }
  return 0;
}
