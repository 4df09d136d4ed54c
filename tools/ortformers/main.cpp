// ortformers CLI entry point. Each subcommand lives in its own file and registers itself with
// ORTFORMERS_REGISTER_COMMAND; main only builds the CLI11 app and maps errors to exit codes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "ortformers/core/error.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ortformers: Hugging Face transformer models on ONNX Runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ortformers ") + ORTFORMERS_VERSION_STRING);
  for (auto& reg : ortformers::cli::command_registry()) reg(app);
  try {
    app.parse(argc, argv);
    return ortformers::cli::run_selected(app);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ortformers::Error& e) {
    std::cerr << "ortformers: error (" << ortformers::to_string(e.kind()) << "): " << e.what() << "\n";
    return 2;
  } catch (const Ort::Exception& e) {
    std::cerr << "ortformers: ONNX Runtime error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ortformers: error: " << e.what() << "\n";
    return 2;
  }
}
