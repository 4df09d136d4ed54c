// libFuzzer: arbitrary bytes as a POST /v1/audio/transcriptions request. The first byte picks the Content-Type (a
// fixed boundary, or the next bytes up to a newline as the whole header value); the rest is the multipart body.
// Parsing must give a typed request or throw ServerError (which the API answers 422); nothing else may escape,
// nothing may crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api/transcription_request.hpp"
#include "server/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers::server;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view content_type = "multipart/form-data; boundary=XyZ";
  if (data[0] % 2 == 1) {
    const auto nl = rest.find('\n');
    content_type = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  try {
    const auto r = parse_transcription_request(content_type, rest);
    (void)(r.file.size() + r.filename.size() + r.model.size());
  } catch (const ServerError&) {
  }
  return 0;
}
