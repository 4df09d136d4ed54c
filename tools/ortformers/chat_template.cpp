// ortformers chat-template: renders chat templates as transformers' apply_chat_template does, one JSON line per
// input line {"template": "...", "variables": {"messages": [...], "add_generation_prompt": true, ...}}: the rendered
// string as a JSON string, or {"error": {"type": "TemplateError", "message": "..."}}.
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "ortformers/chat_template/chat_template.hpp"
#include "ortformers/core/error.hpp"

namespace {

namespace ct = ortformers::chat_template;

struct ChatTemplateArgs {
  std::string inputs;
};

ChatTemplateArgs args;

ct::OrderedJson error_line(const std::string& type, const std::string& message) {
  return ct::OrderedJson{{"error", ct::OrderedJson{{"type", type}, {"message", message}}}};
}

ct::OrderedJson render_line(const std::string& line, std::size_t number) {
  ct::OrderedJson input;
  try {
    input = ct::OrderedJson::parse(line);
  } catch (const std::exception& e) {
    return error_line("InvalidInput", "--inputs line " + std::to_string(number) + " is not JSON: " + e.what());
  }
  if (!input.is_object() || !input.contains("template") || !input["template"].is_string())
    return error_line("InvalidInput", "--inputs line " + std::to_string(number) +
                                          ": expected {\"template\": \"...\", \"variables\": {...}}");
  const ct::OrderedJson variables = input.contains("variables") ? input["variables"] : ct::OrderedJson::object();
  if (!variables.is_object())
    return error_line("InvalidInput", "--inputs line " + std::to_string(number) + ": \"variables\" must be an object");
  try {
    return ct::render_template(input["template"].get<std::string>(), variables);
  } catch (const ortformers::Error& e) {
    return error_line(ct::error_type_name(e), e.what());
  }
}

int run_chat_template() {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args.inputs != "-") {
    file.open(args.inputs);
    if (!file) throw ortformers::NotFoundError("--inputs: cannot open " + args.inputs);
    in = &file;
  }
  std::string line;
  std::size_t number = 0;
  while (std::getline(*in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::cout << render_line(line, number).dump(-1, ' ', false, ct::OrderedJson::error_handler_t::replace) << "\n";
  }
  return 0;
}

void register_chat_template(CLI::App& app) {
  auto* c = app.add_subcommand("chat-template",
                               "Render Hugging Face chat templates as transformers' apply_chat_template does");
  c->add_option("--inputs", args.inputs,
                "JSON lines {\"template\": ..., \"variables\": {\"messages\": [...], ...}} ('-' = stdin)")
      ->required();
  ortformers::cli::command_actions()["chat-template"] = run_chat_template;
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_chat_template);
