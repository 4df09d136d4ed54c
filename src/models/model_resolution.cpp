#include "model_resolution.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace fs = std::filesystem;

fs::path resolve_model_dir(const std::string& model_id_or_path, const ModelOptions& options, const std::string&) {
  if (model_id_or_path.empty()) throw InvalidArgument("empty model id or path");
  fs::path p(model_id_or_path);
  if (!fs::exists(p)) throw NotFoundError("model folder not found: " + model_id_or_path);
  if (fs::is_regular_file(p)) {
    if (p.extension() != ".onnx") throw InvalidArgument("not a model folder or .onnx file: " + model_id_or_path);
    return p.parent_path().empty() ? fs::path(".") : p.parent_path();
  }
  (void)options;
  return p;
}

}  // namespace ortformers::models
