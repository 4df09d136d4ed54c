// ortformers download ID [FILES...] [--revision R] [--include PATTERN]...: fetch a model (what it needs, or the files
// matching --include, or the named files) into the Hugging Face cache and print the local path, like
// `huggingface-cli download`.
#include <iostream>
#include <memory>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/hub/hub.hpp"

namespace {

using namespace ortformers;

struct DownloadArgs {
  std::string id;
  std::vector<std::string> files;
  cli::ModelArgs m;  // --revision, --file-name, --cache-dir
  std::vector<std::string> include, exclude;
  std::string token, weights = "auto", repo_type = "model", endpoint;
  bool force = false, local_files_only = false, quiet = false;
};

hub::WeightsFormat parse_weights(const std::string& w) {
  if (w == "auto") return hub::WeightsFormat::Auto;
  if (w == "onnx") return hub::WeightsFormat::Onnx;
  if (w == "safetensors") return hub::WeightsFormat::Safetensors;
  if (w == "pytorch") return hub::WeightsFormat::PyTorch;
  if (w == "none") return hub::WeightsFormat::None;
  if (w == "checkpoint") return hub::WeightsFormat::Checkpoint;
  throw InvalidArgument("--weights must be auto, onnx, safetensors, pytorch, checkpoint or none, not '" + w + "'");
}

int download_command(const DownloadArgs& a) {
  hub::HubOptions o;
  o.revision = a.m.revision;
  if (!a.token.empty()) o.token = a.token;
  if (!a.m.cache_dir.empty()) o.cache_dir = a.m.cache_dir;
  if (!a.endpoint.empty()) o.endpoint = a.endpoint;
  if (!a.m.file_name.empty()) o.file_name = a.m.file_name;
  o.allow_patterns = a.include;
  o.ignore_patterns = a.exclude;
  o.repo_type = a.repo_type;
  o.weights = parse_weights(a.weights);
  o.force_download = a.force;
  o.check_for_updates = true;  // an explicit download asks the hub what the revision points to now
  o.local_files_only = a.local_files_only;
  o.progress = !a.quiet;
  if (!a.files.empty()) {
    for (const auto& f : a.files) std::cout << hub::hf_hub_download(a.id, f, o).string() << "\n";
    return 0;
  }
  std::filesystem::path snap = a.repo_type == "model" && a.include.empty() && a.exclude.empty()
                                   ? hub::resolve_model(a.id, o)
                                   : hub::snapshot_download(a.id, o);
  std::cout << snap.string() << "\n";
  return 0;
}

void register_download(CLI::App& app) {
  auto a = std::make_shared<DownloadArgs>();
  auto* cmd = app.add_subcommand(
      "download", "Download a model from the Hugging Face hub into the shared cache and print its local folder");
  cmd->add_option("id", a->id, "repo id, e.g. sentence-transformers/all-MiniLM-L6-v2")->required();
  cmd->add_option("files", a->files, "only these files (prints one path per file)");
  cli::add_model_options(*cmd, a->m, cli::kRevision | cli::kFileName | cli::kCacheDir);
  cmd->add_option("--include", a->include, "download the repo files matching this glob (repeatable)")
      ->expected(1)
      ->allow_extra_args(false);
  cmd->add_option("--exclude", a->exclude, "skip the repo files matching this glob (repeatable)")
      ->expected(1)
      ->allow_extra_args(false);
  cmd->add_option("--token", a->token, "access token (default: $HF_TOKEN or the token file)");
  cmd->add_option("--endpoint", a->endpoint, "hub URL (default: $HF_ENDPOINT or https://huggingface.co)");
  cmd->add_option("--weights", a->weights, "auto | onnx | safetensors | pytorch | checkpoint | none (default: auto)");
  cmd->add_option("--repo-type", a->repo_type, "model | dataset | space (default: model)");
  cmd->add_flag("--force", a->force, "download again even when cached");
  cmd->add_flag("--local-files-only", a->local_files_only, "never use the network");
  cmd->add_flag("--quiet", a->quiet, "no progress bar");
  ortformers::cli::command_actions()["download"] = [a] { return download_command(*a); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_download);
