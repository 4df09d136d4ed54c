#pragma once
// Internal: turns a model id or folder into a local folder with an ONNX file (hub download, native export).
#include <filesystem>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

// A local folder as-is; otherwise an id resolved through the Hugging Face cache / download. With
// options.export_model, the PyTorch checkpoint in that folder is exported natively (cached) and the export folder
// is returned. Without it, a folder that has a checkpoint but no ONNX file is an error suggesting export.
std::filesystem::path resolve_model_dir(const std::string& model_id_or_path, const ModelOptions& options,
                                        const std::string& task);

}  // namespace ortformers::models

namespace ortformers::models {
// Exports the checkpoint folder natively for `task` into the content-keyed export cache; returns that folder.
std::filesystem::path export_checkpoint(const std::filesystem::path& checkpoint_dir, const std::string& task);
}  // namespace ortformers::models
