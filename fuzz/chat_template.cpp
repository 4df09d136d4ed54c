// Fuzz target: parse and render arbitrary chat templates with a fixed conversation. Any input must end in a
// rendered string or an ortformers::Error (never a crash, a hang or another exception type).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ortformers/chat_template/chat_template.hpp"

namespace {

const ortformers::chat_template::OrderedJson& variables() {
  static const auto v = ortformers::chat_template::OrderedJson::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful. ü 漢字"},
      {"role": "user", "content": "  What's the weather in Paris?\n"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "abcDEF123", "type": "function",
        "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}]},
      {"role": "tool", "content": "22", "tool_call_id": "abcDEF123", "name": "get_weather"},
      {"role": "assistant", "content": "It is 22 degrees."},
      {"role": "user", "content": "Thanks"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"
  })");
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ortformers::chat_template::Limits limits;
  limits.max_steps = 200'000;
  limits.max_string_bytes = 1u << 20;
  limits.max_depth = 128;
  try {
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    const ortformers::chat_template::ChatTemplate t(source, limits);
    (void)t.render(variables());
  } catch (const ortformers::Error&) {
  }
  return 0;
}
