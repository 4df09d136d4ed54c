#include "commands.hpp"

namespace ortformers::cli {

std::vector<Registrar>& command_registry() {
  static std::vector<Registrar> r;
  return r;
}

std::map<std::string, std::function<int()>>& command_actions() {
  static std::map<std::string, std::function<int()>> a;
  return a;
}

int run_selected(CLI::App& app) {
  for (auto* sub : app.get_subcommands()) {
    auto it = command_actions().find(sub->get_name());
    if (it != command_actions().end()) return it->second();
  }
  throw CLI::CallForHelp();
}

}  // namespace ortformers::cli
