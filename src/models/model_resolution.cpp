#include "model_resolution.hpp"

#include "ortformers/core/error.hpp"
#include "ortformers/hub/hub.hpp"

namespace ortformers::models {

namespace fs = std::filesystem;

namespace {

bool has_checkpoint(const fs::path& dir) {
  for (const char* f : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                        "pytorch_model.bin.index.json"}) {
    if (fs::exists(dir / f)) return true;
  }
  return false;
}

}  // namespace

fs::path resolve_model_dir(const std::string& model_id_or_path, const ModelOptions& options, const std::string& task) {
  if (model_id_or_path.empty()) throw InvalidArgument("empty model id or path");
  fs::path p(model_id_or_path);
  fs::path dir;
  if (fs::is_regular_file(p)) {
    if (p.extension() != ".onnx") throw InvalidArgument("not a model folder or .onnx file: " + model_id_or_path);
    return p.parent_path().empty() ? fs::path(".") : p.parent_path();
  }
  if (fs::is_directory(p)) {
    dir = p;
  } else if (p.is_absolute() || model_id_or_path.starts_with("./") || model_id_or_path.starts_with("../")) {
    throw NotFoundError("model folder not found: " + model_id_or_path);
  } else {
    // A hub id ("org/name"): the Hugging Face cache, downloading what is missing.
    hub::HubOptions h;
    h.revision = options.revision;
    h.token = options.token;
    h.local_files_only = options.local_files_only;
    h.cache_dir = options.cache_dir;
    if (!options.file_name.empty()) h.file_name = options.file_name;
    h.weights = options.export_model ? hub::WeightsFormat::Checkpoint : hub::WeightsFormat::Auto;
    dir = hub::resolve_model(model_id_or_path, h);
  }
  if (options.export_model) {
    (void)task;
    if (!has_checkpoint(dir)) {
      throw NotFoundError("export requested but " + dir.string() +
                          " has no PyTorch checkpoint (model.safetensors or pytorch_model.bin)");
    }
    return export_checkpoint(dir, task);
  }
  return dir;
}

}  // namespace ortformers::models
