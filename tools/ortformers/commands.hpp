#pragma once
// Subcommand registry: every tools/ortformers/<command>.cpp registers a function that adds its subcommand
// to the app and stores the action to run when that subcommand is selected.
#include <onnxruntime_cxx_api.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#ifndef ORTFORMERS_VERSION_STRING
#define ORTFORMERS_VERSION_STRING "0.1.0"
#endif

namespace ortformers::cli {

using Registrar = std::function<void(CLI::App&)>;
std::vector<Registrar>& command_registry();
// Actions by subcommand name; a registrar adds its action here. An action returns the process exit code.
std::map<std::string, std::function<int()>>& command_actions();
int run_selected(CLI::App& app);

struct RegisterCommand {
  explicit RegisterCommand(Registrar r) { command_registry().push_back(std::move(r)); }
};

}  // namespace ortformers::cli

#define ORTFORMERS_CLI_CAT2(a, b) a##b
#define ORTFORMERS_CLI_CAT(a, b) ORTFORMERS_CLI_CAT2(a, b)
#define ORTFORMERS_REGISTER_COMMAND(fn) \
  static ::ortformers::cli::RegisterCommand ORTFORMERS_CLI_CAT(ortformers_cmd_, __LINE__)(fn)
