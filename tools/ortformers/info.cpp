// ortformers info --model DIR: config, graph inputs/outputs with dtypes and shapes, detected task.
#include <filesystem>
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/export/quantize.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
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

// A text encoder-decoder export (encoder_model.onnx taking input_ids): the encoder and the decoder optimum would
// choose, as ORTModelForSeq2SeqLM loads them.
bool is_text_encoder_decoder(const std::string& model) {
  for (const fs::path& p : {fs::path(model) / "encoder_model.onnx", fs::path(model) / "onnx" / "encoder_model.onnx"}) {
    if (fs::is_regular_file(p)) return ortformers::runtime::Session(p).has_input("input_ids");
  }
  return false;
}

int seq2seq_info(const std::string& model) {
  using namespace ortformers;
  const auto m = models::ORTModelForSeq2SeqLM::from_pretrained(model);
  const auto& cfg = m.config();
  Json out = {{"model_dir", m.model_dir().string()},
              {"onnx_file", m.encoder_path().string()},
              {"decoder_file", m.decoder_path().string()},
              {"decoder_layout", models::layout_name(m.layout())},
              {"onnx_runtime", runtime::ort_version()},
              {"model_type", cfg.model_type()},
              {"architectures", cfg.architectures()},
              {"task", pipelines::detect_task(m)},
              {"inputs", describe(m.session().inputs())},
              {"outputs", describe(m.session().outputs())},
              {"decoder_inputs", describe(m.decoder_session().inputs())},
              {"decoder_outputs", describe(m.decoder_session().outputs())},
              {"config", cfg.json()}};
  if (m.layout() == models::DecoderLayout::Split) out["decoder_with_past_file"] = m.decoder_with_past_path().string();
  std::cout << out.dump(2) << "\n";
  return 0;
}

int info_command(const std::string& model) {
  using namespace ortformers;
  if (fs::is_directory(model) && is_text_encoder_decoder(model)) return seq2seq_info(model);
  // A folder with only PyTorch weights: its native export (cached) for the task its config implies.
  auto m = models::ORTModelForCustomTasks::from_pretrained(cli::exported_if_checkpoint_only(model, ""));
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
