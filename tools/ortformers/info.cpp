// ortformers info --model DIR: config, graph inputs/outputs with dtypes and shapes, detected task.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/export/quantize.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/models/probe.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/runtime/session.hpp"

namespace {

namespace fs = std::filesystem;
using ortformers::Json;

Json describe(const std::vector<ortformers::runtime::TensorInfo>& infos) {
  Json arr = Json::array();
  for (const auto& i : infos) {
    Json shape = Json::array();
    for (std::size_t d = 0; d < i.shape.size(); ++d) {
      if (i.shape[d] >= 0)
        shape.push_back(i.shape[d]);
      else if (!i.dim_names[d].empty())
        shape.push_back(i.dim_names[d]);
      else
        shape.push_back(nullptr);
    }
    arr.push_back({{"name", i.name}, {"dtype", ortformers::dtype_name(i.dtype)}, {"shape", shape}});
  }
  return arr;
}

int info_command(const std::string& model) {
  using namespace ortformers;
  // A folder with only PyTorch weights: its native export (cached) for the task its config implies.
  const std::string dir = cli::exported_if_checkpoint_only(model, "");
  // optimum's generative exports hold several graphs: show the encoder (or first-step decoder) and list them all.
  models::ModelOptions mo;
  mo.file_name = models::probe_file_name(dir);
  auto m = models::ORTModelForCustomTasks::from_pretrained(dir, mo);
  const auto& cfg = m.config();
  Json c = cfg.json();
  Json out = {{"model_dir", m.model_dir().string()},
              {"onnx_file", m.model_path().string()},
              {"onnx_runtime", runtime::ort_version()},
              {"model_type", cfg.model_type()},
              {"architectures", cfg.architectures()},
              {"task", pipelines::detect_task(m)},
              {"inputs", describe(m.session().inputs())},
              {"outputs", describe(m.session().outputs())},
              {"config", c}};
  if (!mo.file_name.empty()) {
    Json files = Json::array();
    for (const auto& e : std::filesystem::directory_iterator(m.model_path().parent_path()))
      if (e.path().extension() == ".onnx") files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    out["onnx_files"] = files;
  }
  // The int8 scheme of a graph quantized by `ortformers export --quantize` (export/quantize.hpp), and whether this CPU
  // runs u8 x s8 products without saturation (VNNI); an 8-bit u8s8 graph on a CPU without it gives degraded outputs.
  Ort::AllocatorWithDefaultOptions alloc;
  auto value = m.session().raw().GetModelMetadata().LookupCustomMetadataMapAllocated("ortformers.quantization", alloc);
  if (value) {
    const std::string scheme = value.get();
    const bool vnni = exporters::cpu_has_int8_dot_product();
    out["quantization"] = {{"scheme", scheme}, {"cpu_int8_dot_product", vnni}};
    const bool full_range_s8 = scheme.rfind("avx512_vnni:", 0) == 0 || scheme.rfind("arm64:", 0) == 0;
#if defined(__x86_64__)
    if (full_range_s8 && !vnni) {
      std::cerr << "warning: " << scheme << " needs a CPU with VNNI; this CPU has none, so u8 x s8 products can "
                << "saturate: re-export with --quantize int8 or avx2\n";
    }
#else
    (void)full_range_s8;
#endif
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

void register_info(CLI::App& app) {
  auto a = std::make_shared<ortformers::cli::ModelArgs>();
  auto* cmd = app.add_subcommand("info", "Show a model folder's config, graph inputs/outputs and detected task");
  ortformers::cli::add_model_options(*cmd, *a, ortformers::cli::kModel);
  ortformers::cli::command_actions()["info"] = [a] { return info_command(a->model); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_info);
