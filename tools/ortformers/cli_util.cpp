#include "cli_util.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"

namespace ortformers::cli {

models::ModelOptions ModelArgs::model_options() const {
  models::ModelOptions o;
  o.file_name = file_name;
  o.export_model = export_model;
  o.revision = revision;
  if (!cache_dir.empty()) o.cache_dir = cache_dir;
  o.session.intra_op_num_threads = threads;
  return o;
}

void add_model_options(CLI::App& cmd, ModelArgs& args, unsigned which) {
  if (which & kModel)
    cmd.add_option("--model", args.model, "model folder, .onnx file or hub id (org/name)")->required();
  if (which & kRevision) cmd.add_option("--revision", args.revision, "branch, tag or commit hash (default: main)");
  if (which & kFileName) cmd.add_option("--file-name", args.file_name, "ONNX file inside the model folder");
  if (which & kThreads) cmd.add_option("--threads", args.threads, "intra-op threads (0 = ONNX Runtime default)");
  if (which & kExport)
    cmd.add_flag("--export", args.export_model, "export the PyTorch checkpoint natively first (cached)");
  if (which & kCacheDir)
    cmd.add_option("--cache-dir", args.cache_dir, "cache folder (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)");
}

bool checkpoint_only_folder(const std::string& model, const std::string& file_name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir(model);
  if (!file_name.empty() || !fs::is_directory(dir, ec)) return false;
  for (const fs::path& folder : {dir, dir / "onnx"}) {
    if (!fs::is_directory(folder, ec)) continue;
    for (const auto& e : fs::directory_iterator(folder, ec))
      if (e.path().extension() == ".onnx") return false;
  }
  for (const char* f :
       {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::is_regular_file(dir / f, ec)) {
      std::cerr << "ortformers: " << model << " has a PyTorch checkpoint (" << f
                << ") and no ONNX file: exporting it natively (cached, as --export does)\n";
      return true;
    }
  }
  return false;
}

std::string exported_if_checkpoint_only(const std::string& model, const std::string& file_name) {
  if (!checkpoint_only_folder(model, file_name)) return model;
  const auto out = exporters::export_to_cache(model, exporters::ExportOptions{});
  std::cerr << "ortformers: using the export in " << out.string() << "\n";
  return out.string();
}

Json parse_options(const std::vector<std::string>& options) {
  Json out = Json::object();
  for (const auto& o : options) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InvalidArgument("--option expects KEY=VALUE, got '" + o + "'");
    }
    const std::string key = o.substr(0, eq);
    const std::string value = o.substr(eq + 1);
    Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
    out[key] = parsed.is_discarded() ? Json(value) : parsed;
  }
  return out;
}

std::vector<Json> read_inputs(const std::string& jsonl_file, const std::vector<std::string>& texts) {
  std::vector<Json> inputs;
  if (!jsonl_file.empty()) {
    std::ifstream in(jsonl_file);
    if (!in) throw NotFoundError("cannot open inputs file: " + jsonl_file);
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        throw InvalidArgument(jsonl_file + ":" + std::to_string(lineno) + ": not a JSON value: " + line.substr(0, 80));
      }
      inputs.push_back(std::move(j));
    }
  }
  for (const auto& t : texts) inputs.emplace_back(t);
  return inputs;
}

void print_json_line(const Json& value) {
  std::cout << value.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace ortformers::cli
