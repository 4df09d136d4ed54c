#include "ortformers/models/probe.hpp"

#include <system_error>

namespace ortformers::models {

namespace fs = std::filesystem;

std::string probe_file_name(const fs::path& dir) {
  std::error_code ec;
  for (const fs::path& folder : {dir, dir / "onnx"}) {
    if (!fs::is_directory(folder, ec)) continue;
    if (fs::is_regular_file(folder / "model.onnx", ec)) return "";
    int count = 0;
    for (const auto& e : fs::directory_iterator(folder, ec))
      if (e.path().extension() == ".onnx") ++count;
    if (count == 0) continue;
    if (count == 1) return "";
    for (const char* name : {"encoder_model.onnx", "decoder_model_merged.onnx", "decoder_model.onnx"})
      if (fs::is_regular_file(folder / name, ec)) return name;
    return "";
  }
  return "";
}

}  // namespace ortformers::models
