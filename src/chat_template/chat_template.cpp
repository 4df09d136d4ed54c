#include "ortformers/chat_template/chat_template.hpp"

#include "chat_template/builtins.hpp"
#include "chat_template/interpreter.hpp"
#include "chat_template/parser.hpp"

namespace ortformers::chat_template {

struct ChatTemplate::Program {
  std::string source;
  Limits limits;
  detail::Body body;
};

namespace {

[[noreturn]] void rethrow(const detail::RenderFailure& f, int line) {
  if (f.type == "TemplateError") throw TemplateError(f.message);
  if (f.type == "Unsupported")
    throw UnsupportedError("chat template: " + f.message + " at line " + std::to_string(line) +
                           " is not supported by the chat-template engine");
  throw TemplateRenderError(f.type, f.message, line);
}

}  // namespace

ChatTemplate::ChatTemplate(std::string_view source, Limits limits) {
  auto p = std::make_shared<Program>();
  p->source = std::string(source);
  p->limits = limits;
  try {
    p->body = detail::parse_template(p->source, limits.max_depth);
  } catch (const detail::RenderFailure& f) {
    rethrow(f, 0);
  }
  program_ = std::move(p);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(const ChatTemplate&) = default;
ChatTemplate& ChatTemplate::operator=(const ChatTemplate&) = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

const std::string& ChatTemplate::source() const {
  return program_->source;
}

std::string ChatTemplate::render(const OrderedJson& variables) const {
  if (!variables.is_object() && !variables.is_null())
    throw InvalidArgument("chat template variables must be a JSON object, got " + std::string(variables.type_name()));
  std::unique_ptr<detail::Interpreter> in;
  try {
    detail::Dict vars;
    if (variables.is_object())
      for (const auto& [k, v] : variables.items()) vars.set(k, detail::Value::from_json(v));
    in = std::make_unique<detail::Interpreter>(program_->limits, detail::make_globals(), std::move(vars));
    return in->render(program_->body);
  } catch (const detail::RenderFailure& f) {
    rethrow(f, in ? in->line() : 0);
  }
}

std::string render_template(std::string_view source, const OrderedJson& variables, Limits limits) {
  return ChatTemplate(source, limits).render(variables);
}

std::string error_type_name(const std::exception& error) {
  if (dynamic_cast<const TemplateError*>(&error)) return "TemplateError";
  if (dynamic_cast<const TemplateSyntaxError*>(&error)) return "TemplateSyntaxError";
  if (const auto* r = dynamic_cast<const TemplateRenderError*>(&error)) return r->type;
  if (dynamic_cast<const UnsupportedError*>(&error)) return "UnsupportedError";
  if (dynamic_cast<const InvalidArgument*>(&error)) return "InvalidArgument";
  return "Error";
}

}  // namespace ortformers::chat_template
