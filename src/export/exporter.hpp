#pragma once
// Internal entry point of the exporter: builds the ModelProto in memory (used by export_model, tests, bench).
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ortformers/export/export.hpp"

namespace ortformers::exporters {

struct BuiltModel {
  onnx::ModelProto model;
  std::string model_type, task, library_name;
  std::vector<std::string> input_names, output_names;
};

// Reads config + checkpoint from `model_dir` and builds the graph (checked, shapes inferred; quantised when
// options.quantize is set). `progress(fraction, message)` is called along the way when given.
BuiltModel build_model(const std::filesystem::path& model_dir, const ExportOptions& options,
                       const std::function<void(double, const std::string&)>& progress = {});

}  // namespace ortformers::exporters
