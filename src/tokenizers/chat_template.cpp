// PreTrainedTokenizer::apply_chat_template, as transformers (>= 4.42) implements it: template selection (a string, or
// named templates with "default" / "tool_use"), variables messages / tools / documents / add_generation_prompt / the
// special tokens map / extra kwargs, rendering by the chat_template stage, optional encoding without special tokens.
#include <algorithm>

#include "ortformers/chat_template/chat_template.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::tokenizers {

namespace {

using chat_template::OrderedJson;

std::string select_template(const Json& stored, const ChatTemplateOptions& options) {
  if (stored.is_array() || stored.is_object()) {
    // tokenizer_config.json: [{"name": ..., "template": ...}, ...]
    std::vector<std::pair<std::string, std::string>> named;
    if (stored.is_array()) {
      for (const auto& e : stored) {
        if (!e.is_object() || !e.contains("name") || !e.contains("template") || !e["name"].is_string() ||
            !e["template"].is_string())
          throw FileFormatError(
              "tokenizer_config.json: chat_template list entries must be {\"name\": str, "
              "\"template\": str}, got " +
              e.dump());
        named.emplace_back(e["name"].get<std::string>(), e["template"].get<std::string>());
      }
    } else {
      for (const auto& [k, v] : stored.items()) {
        if (!v.is_string()) throw FileFormatError("tokenizer_config.json: chat_template['" + k + "'] is not a string");
        named.emplace_back(k, v.get<std::string>());
      }
    }
    auto find = [&](const std::string& name) -> const std::string* {
      for (const auto& [n, t] : named)
        if (n == name) return &t;
      return nullptr;
    };
    if (options.chat_template) {
      if (const auto* t = find(*options.chat_template)) return *t;
      return *options.chat_template;
    }
    if (!options.tools.is_null())
      if (const auto* t = find("tool_use")) return *t;
    if (const auto* t = find("default")) return *t;
    std::vector<std::string> names;
    for (const auto& [n, t] : named) names.push_back("'" + n + "'");
    std::sort(names.begin(), names.end());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InvalidArgument(
        "This model has multiple chat templates with no default specified! Please either pass a chat template or "
        "the name of the template you wish to use to the `chat_template` argument. Available template names are [" +
        list + "].");
  }
  if (options.chat_template) return *options.chat_template;
  if (stored.is_string()) return stored.get<std::string>();
  if (!stored.is_null()) throw FileFormatError("tokenizer_config.json: chat_template must be a string or a list");
  throw InvalidArgument(
      "Cannot use chat template functions because tokenizer.chat_template is not set and no template argument was "
      "passed! For information about writing templates and setting the tokenizer.chat_template attribute, please "
      "see the documentation at https://huggingface.co/docs/transformers/main/en/chat_templating");
}

}  // namespace

ChatTemplateResult PreTrainedTokenizer::apply_chat_template(const OrderedJson& messages,
                                                            const ChatTemplateOptions& options) const {
  if (!messages.is_array())
    throw InvalidArgument("apply_chat_template: messages must be a list, got " + messages.dump());
  if (!options.extra_variables.is_null() && !options.extra_variables.is_object())
    throw InvalidArgument("apply_chat_template: extra variables must be an object");
  const std::string source = select_template(chat_template_, options);
  // template_kwargs = {**self.special_tokens_map, **kwargs}; then messages, tools, documents, add_generation_prompt
  OrderedJson vars = OrderedJson::object();
  for (const char* name : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"})
    if (auto t = special_token(name)) vars[name] = *t;
  if (!additional_special_.empty()) vars["additional_special_tokens"] = additional_special_;
  if (options.extra_variables.is_object())
    for (const auto& [k, v] : options.extra_variables.items()) vars[k] = v;
  vars["messages"] = messages;
  vars["tools"] = options.tools;
  vars["documents"] = nullptr;
  vars["add_generation_prompt"] = options.add_generation_prompt;
  ChatTemplateResult result;
  result.text = chat_template::render_template(source, vars);
  if (options.tokenize) {
    TokenizeOptions t;
    t.add_special_tokens = false;
    const Encoding e = encode(result.text, t);
    result.input_ids.assign(e.ids.begin(), e.ids.end());
  }
  return result;
}

}  // namespace ortformers::tokenizers
