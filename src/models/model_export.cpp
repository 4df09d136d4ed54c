#include "model_resolution.hpp"
#include "ortformers/export/export.hpp"

namespace ortformers::models {

std::filesystem::path export_checkpoint(const std::filesystem::path& checkpoint_dir, const std::string& task) {
  exporters::ExportOptions o;
  o.task = task.empty() ? "auto" : task;
  return exporters::export_to_cache(checkpoint_dir, o);
}

}  // namespace ortformers::models
