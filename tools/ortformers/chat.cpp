// ortformers chat --model M [--system TEXT] [--max-new-tokens N] [--option KEY=JSON ...]
// An interactive chat in the terminal: each line read from stdin is a user message; the conversation so far is
// rendered with the tokenizer's chat template and the assistant's answer is printed on stdout as it is generated
// (TextStreamer), then kept in the history. /reset clears the history, /exit or end of input (Ctrl-D) quits.
// Prompts and notices go to stderr, so that stdout holds only the answers (one per user line, each ending in a
// newline) when stdin is a pipe.
#include <unistd.h>

#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/pipelines/text_generation.hpp"

namespace {

using namespace ortformers;

struct ChatArgs {
  std::string tokenizer, system;
  std::vector<std::string> options;
  cli::ModelArgs m;
  std::int64_t max_new_tokens = 256;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int chat_command(const ChatArgs& a) {
  Json kwargs = cli::parse_options(a.options);
  if (!kwargs.contains("max_new_tokens") && !kwargs.contains("max_length")) kwargs["max_new_tokens"] = a.max_new_tokens;
  kwargs["return_full_text"] = false;
  pipelines::PipelineOptions po;
  po.model = a.m.model_options();
  po.tokenizer = a.tokenizer;
  pipelines::TextGenerationPipeline pipe(a.m.model, po);
  pipelines::TextGenerationOptions options = pipe.parse_kwargs(kwargs);
  generation::TextStreamer streamer(pipe.tokenizer(), /*skip_prompt=*/true, /*skip_special_tokens=*/true, &std::cout);
  options.streamer = &streamer;

  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  Json history = Json::array();
  auto reset = [&] {
    history = Json::array();
    if (!a.system.empty()) history.push_back({{"role", "system"}, {"content", a.system}});
  };
  reset();
  if (interactive) std::cerr << "Chatting with " << a.m.model << ". /reset clears the history, Ctrl-D quits.\n";
  std::string line;
  while (true) {
    if (interactive) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    const std::string text = trim(line);
    if (text.empty()) continue;
    if (text == "/exit" || text == "/quit") break;
    if (text == "/reset") {
      reset();
      std::cerr << "(history cleared)\n";
      continue;
    }
    history.push_back({{"role", "user"}, {"content", text}});
    try {
      const auto answer = pipe.chat(history, options);
      history.push_back({{"role", "assistant"}, {"content", answer.at(0).generated_text.value_or("")}});
    } catch (const Error& e) {
      history.erase(history.end() - 1);  // the turn failed: forget it, keep the conversation usable
      std::cout.flush();
      std::cerr << "error: " << e.what() << "\n";
      if (!interactive) return 1;
    }
    std::cout.flush();
  }
  if (interactive) std::cerr << "\n";
  return 0;
}

void register_chat(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  auto* cmd = app.add_subcommand("chat", "Interactive chat with a causal language model (chat template, streaming)");
  cmd->add_option("--model", args->m.model, "model folder or hub id")->required();
  using namespace ortformers::cli;
  add_model_options(*cmd, args->m, kRevision | kFileName | kThreads | kExport | kCacheDir);
  cmd->add_option("--system", args->system, "a system message at the start of the conversation");
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "tokens per answer at most (default 256)");
  cmd->add_option("--option", args->options, "KEY=VALUE generate kwarg (VALUE parsed as JSON)")
      ->allow_extra_args(false);
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder or tokenizer.json (default: the model folder)");
  ortformers::cli::command_actions()["chat"] = [args] { return chat_command(*args); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_chat);
