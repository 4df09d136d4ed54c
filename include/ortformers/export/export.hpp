#pragma once
// Native export (optimum.exporters.onnx.main_export in C++). Implemented by src/export/.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ortformers::exporters {

struct ExportOptions {
  std::string task = "auto";           // "auto" = infer from config.json as optimum's TasksManager
  int opset = 17;                      // 14..17
  bool optimize = false;               // emit ORT fused contrib ops
  std::optional<std::string> quantize; // "int8"
  bool progress = false;               // progress bar on a terminal
};

struct ExportResult {
  std::filesystem::path out_dir;
  std::filesystem::path onnx_path;
  std::string model_type;
  std::string task;
  std::vector<std::string> input_names, output_names;
  std::uintmax_t onnx_bytes = 0;
  double seconds = 0;
};

ExportResult export_model(const std::filesystem::path& model_dir, const std::filesystem::path& out_dir,
                          const ExportOptions& options = {});
// Exports into a cache folder keyed by the checkpoint's content and options ($ORTFORMERS_CACHE, else
// ~/.cache/ortformers/exports) and reuses it the next time. Returns the folder.
std::filesystem::path export_to_cache(const std::filesystem::path& model_dir, const ExportOptions& options = {});

}  // namespace ortformers::exporters
