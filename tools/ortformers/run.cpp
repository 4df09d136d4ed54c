// ortformers run <task> [--model DIR|ID] [--option KEY=VALUE ...] [--inputs FILE.jsonl] [TEXT ...]
// One JSON line per input on stdout: exactly what the transformers pipeline returns for that input.
#include <cstdlib>
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/runtime/session.hpp"

namespace {

struct RunArgs {
  std::string task, inputs_file, tokenizer, output_dir = ".";
  std::vector<std::string> options, texts;
  ortformers::cli::ModelArgs m;
  bool no_ort_cache = false;
};

int run_command(const RunArgs& a) {
  using namespace ortformers;
  const Json kwargs = cli::parse_options(a.options);
  const std::vector<Json> inputs = cli::read_inputs(a.inputs_file, a.texts);
  if (inputs.empty()) throw InvalidArgument("no inputs: give TEXT arguments or --inputs FILE.jsonl");
  pipelines::PipelineOptions po;
  po.tokenizer = a.tokenizer;
  po.output_dir = a.output_dir;
  po.model = a.m.model_options();
  // A folder with only PyTorch weights: exported natively for this task (cached), as with --export.
  if (!po.model.export_model && cli::checkpoint_only_folder(a.m.model, a.m.file_name)) po.model.export_model = true;
  const char* env_cache = std::getenv("ORTFORMERS_ORT_CACHE");
  if (!a.no_ort_cache && !(env_cache && std::string(env_cache) == "0")) {
    po.model.session.ort_format_cache_dir = runtime::default_ort_cache_dir();
  }
  // Without --model: transformers' default model for the task (hub cache, warning on stderr), as pipeline(task).
  auto pipe = a.m.model.empty() ? pipelines::pipeline(a.task, po) : pipelines::pipeline(a.task, a.m.model, po);
  constexpr std::size_t kChunk = 256;  // bounded memory for long input files
  for (std::size_t start = 0; start < inputs.size(); start += kChunk) {
    std::vector<Json> chunk(inputs.begin() + static_cast<std::ptrdiff_t>(start),
                            inputs.begin() + static_cast<std::ptrdiff_t>(std::min(inputs.size(), start + kChunk)));
    for (const auto& result : pipe->call_batch(chunk, kwargs)) cli::print_json_line(result);
  }
  std::cout.flush();
  return 0;
}

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run a task pipeline: one JSON line per input, as the Python pipeline returns");
  cmd->add_option("task", args->task, "feature-extraction, sentence-embeddings, text-classification, ...")->required();
  cmd->add_option("--model", args->m.model,
                  "model folder or hub id (default: transformers' default model for the task, from the hub cache)");
  using namespace ortformers::cli;
  add_model_options(*cmd, args->m, kFileName | kThreads | kExport);
  cmd->add_option("--option", args->options, "KEY=VALUE keyword argument for every input (VALUE parsed as JSON)")
      ->allow_extra_args(false);  // one KEY=VALUE per --option; what follows is a TEXT
  cmd->add_option("--inputs", args->inputs_file, "JSON-lines file: strings or objects of the pipeline's arguments");
  cmd->add_option("texts", args->texts, "inputs (texts or file paths)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder or tokenizer.json (default: the model folder)");
  cmd->add_option("--output-dir", args->output_dir, "where pipelines that produce images write them");
  cmd->add_flag("--no-ort-cache", args->no_ort_cache,
                "do not keep/use the optimised graph in ONNX Runtime format (also ORTFORMERS_ORT_CACHE=0)");
  ortformers::cli::command_actions()["run"] = [args] { return run_command(*args); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_run);
