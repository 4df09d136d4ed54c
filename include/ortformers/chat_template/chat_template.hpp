#pragma once
// Hugging Face chat templates: a small interpreter of the Jinja subset that real templates use, rendering exactly as
// transformers' apply_chat_template does (jinja2 ImmutableSandboxedEnvironment(trim_blocks=True,
// lstrip_blocks=True), the global raise_exception(message), transformers' `tojson` filter). docs/generation.md
// lists what is supported; anything else is an UnsupportedError naming the construct and its line, never a wrong
// string.
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ortformers/core/error.hpp"

namespace ortformers::chat_template {

// Variables keep the key order of their JSON objects (Python dicts do; `tojson` and str() print in that order).
using OrderedJson = nlohmann::ordered_json;

// jinja2.exceptions.TemplateError raised by the template's raise_exception(message): what() is the message verbatim.
struct TemplateError : InvalidArgument {
  explicit TemplateError(const std::string& message) : InvalidArgument(message) {}
};

// A template that does not parse (jinja2's TemplateSyntaxError / TemplateAssertionError). what() names the line.
struct TemplateSyntaxError : InvalidArgument {
  TemplateSyntaxError(const std::string& message, int line) : InvalidArgument(message), line(line) {}
  int line;
};

// An error while rendering that Python would raise as another exception type: `type` is its Python name
// ("TypeError", "UndefinedError", "ValueError", "ZeroDivisionError", "SecurityError", "LimitError", ...), what() is
// Python's message (jinja2's wording for UndefinedError), `line` the template line being rendered.
struct TemplateRenderError : InvalidArgument {
  TemplateRenderError(std::string type_name, const std::string& message, int line)
      : InvalidArgument(message), type(std::move(type_name)), line(line) {}
  std::string type;
  int line;
};

// Bounds that keep hostile templates from hanging or exhausting memory (each exceeded bound is an error).
struct Limits {
  std::size_t max_steps = 10'000'000;        // loop iterations + expression evaluations + output writes
  std::size_t max_string_bytes = 64u << 20;  // the output, and any string or list built while rendering
  std::size_t max_depth = 256;               // nesting of the template source and of macro calls
};

class ChatTemplate {
 public:
  // Parses `source`. TemplateSyntaxError on a syntax error; UnsupportedError on a construct outside the subset.
  explicit ChatTemplate(std::string_view source, Limits limits = {});
  ~ChatTemplate();
  ChatTemplate(const ChatTemplate&);
  ChatTemplate& operator=(const ChatTemplate&);
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with `variables` (a JSON object: messages, add_generation_prompt, bos_token, tools, ...).
  // TemplateError for raise_exception, TemplateRenderError for other runtime errors, UnsupportedError.
  std::string render(const OrderedJson& variables) const;

  const std::string& source() const;

  struct Program;

 private:
  std::shared_ptr<const Program> program_;
};

// Parses and renders in one call.
std::string render_template(std::string_view source, const OrderedJson& variables, Limits limits = {});

// The Python-side name of a chat-template error: "TemplateError", "TemplateSyntaxError", "UnsupportedError", the
// `type` of a TemplateRenderError, or "Error" for anything else.
std::string error_type_name(const std::exception& error);

}  // namespace ortformers::chat_template
