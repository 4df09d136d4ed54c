#pragma once
// Shared CLI helpers: the model options of the subcommands that load a model, --option KEY=VALUE parsing,
// JSON-lines input, JSON output.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/models/ort_model.hpp"

namespace ortformers::cli {

// The model options shared by the subcommands that load a model (run, bench, forward, info, export, download,
// serve), with their defaults.
struct ModelArgs {
  std::string model;              // --model DIR|ID (required): model folder, .onnx file or hub id "org/name"
  std::string revision = "main";  // --revision: hub branch, tag or commit
  std::string file_name;          // --file-name: the ONNX file inside the model folder ("" = as optimum finds it)
  int threads = 0;                // --threads: ONNX Runtime intra-op threads (0 = its default)
  bool export_model = false;      // --export: export the PyTorch checkpoint natively first (cached)
  std::string cache_dir;          // --cache-dir: Hugging Face cache ("" = $HF_HUB_CACHE or ~/.cache/huggingface/hub)

  // These values as models::ModelOptions (file_name, export_model, revision, cache_dir, intra-op threads).
  models::ModelOptions model_options() const;
};

// Which of ModelArgs' options a subcommand declares (or them together: kModel | kFileName | kThreads).
enum ModelOption : unsigned {
  kModel = 1u << 0,
  kRevision = 1u << 1,
  kFileName = 1u << 2,
  kThreads = 1u << 3,
  kExport = 1u << 4,
  kCacheDir = 1u << 5,
  kAllModelOptions = (1u << 6) - 1,
};

// Declares the options `which` on `cmd`, stored into `args`. `args` must outlive the parse and the action: keep
// it in the struct the action's shared_ptr holds. Example:
//   struct Args { cli::ModelArgs m; ... };  auto a = std::make_shared<Args>();
//   cli::add_model_options(*cmd, a->m, cli::kModel | cli::kThreads);  ... a->m.model_options()
void add_model_options(CLI::App& cmd, ModelArgs& args, unsigned which = kAllModelOptions);

// True when `model` is a local folder with a PyTorch checkpoint (model.safetensors, pytorch_model.bin or their
// sharded indexes) and no ONNX file (in it or its onnx/ subfolder), and no --file-name was given: what a user means
// is "export it natively" (cached, as --export), which the CLI and `serve` then do. Writes that note on stderr.
bool checkpoint_only_folder(const std::string& model, const std::string& file_name);
// For the commands that do not know their task (info, serve): `model` itself, or for a checkpoint-only folder
// (checkpoint_only_folder) its native export for the task the config implies (optimum's task "auto"; the
// sentence-transformers form for a folder with modules.json), from/into the export cache.
std::string exported_if_checkpoint_only(const std::string& model, const std::string& file_name);

// KEY=VALUE -> {"KEY": VALUE}; VALUE parsed as JSON when it parses (numbers, true/false, null, lists, objects),
// as a string otherwise. InvalidArgument for an option without '='.
Json parse_options(const std::vector<std::string>& options);
// Inputs from a JSON-lines file (each line a JSON value; blank lines skipped) followed by the TEXT arguments.
// InvalidArgument naming the file and line for a malformed line.
std::vector<Json> read_inputs(const std::string& jsonl_file, const std::vector<std::string>& texts);
// One compact JSON line on stdout (floats in shortest round-trip form).
void print_json_line(const Json& value);

}  // namespace ortformers::cli
