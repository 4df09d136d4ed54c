// libFuzzer: arbitrary bytes as tokenizer.json. Loading must either succeed or throw ortformers::Error; a tokenizer
// that loads must encode / decode a few strings without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = ortformers::tokenizers::Tokenizer::from_json(json);
    for (const char* text : {"Hello world!", "", "  caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 [CLS] <s> 123", "a\tb\nc"}) {
      try {
        const auto e = tok.encode_pair(text, "second", true);
        (void)tok.decode(e.ids, false);
      } catch (const ortformers::Error&) {
      }
    }
  } catch (const ortformers::Error&) {
  }
  return 0;
}
