// ortformers info --model DIR: config, graph inputs/outputs with dtypes and shapes, detected task.
#include <filesystem>
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/runtime/session.hpp"

namespace {

namespace fs = std::filesystem;
using ortformers::Json;

Json describe(const std::vector<ortformers::runtime::TensorInfo>& infos) {
  Json arr = Json::array();
  for (const auto& i : infos) {
    Json shape = Json::array();
    for (std::size_t d = 0; d < i.shape.size(); ++d) {
      if (i.shape[d] >= 0) shape.push_back(i.shape[d]);
      else if (!i.dim_names[d].empty()) shape.push_back(i.dim_names[d]);
      else shape.push_back(nullptr);
    }
    arr.push_back({{"name", i.name}, {"dtype", ortformers::dtype_name(i.dtype)}, {"shape", shape}});
  }
  return arr;
}

// The pipeline task this folder serves, as transformers / optimum infer it: the architecture's head, a
// sentence-transformers folder, else from the graph's outputs.
std::string detect_task(const ortformers::config::PretrainedConfig& cfg, const fs::path& dir,
                        const ortformers::runtime::Session& s) {
  static const std::vector<std::pair<std::string, std::string>> suffixes = {
      {"ForSequenceClassification", "text-classification"},
      {"ForTokenClassification", "token-classification"},
      {"ForQuestionAnswering", "question-answering"},
      {"ForMaskedLM", "fill-mask"},
      {"ForMultipleChoice", "multiple-choice"},
      {"ForImageClassification", "image-classification"},
      {"ForSemanticSegmentation", "image-segmentation"},
      {"ForImageSuperResolution", "image-to-image"},
      {"ForAudioFrameClassification", "audio-frame-classification"},
      {"ForXVector", "audio-xvector"},
      {"ForCTC", "automatic-speech-recognition"},
      {"ForAudioClassification", "audio-classification"},
  };
  if (fs::exists(dir / "modules.json")) return "sentence-embeddings";
  for (const auto& arch : cfg.architectures()) {
    for (const auto& [suffix, task] : suffixes) {
      if (arch.ends_with(suffix)) {
        if (task == "text-classification") {
          // NLI heads serve zero-shot classification, as transformers' pipeline checks the labels.
          for (const auto& [id, label] : cfg.id2label()) {
            std::string l = label;
            for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (l.rfind("entail", 0) == 0) return "zero-shot-classification";
          }
          if (s.has_output("logits") && cfg.architectures().size() == 1 && arch.find("Audio") != std::string::npos)
            return "audio-classification";
          if (arch.find("Wav2Vec2") != std::string::npos || arch.find("Hubert") != std::string::npos)
            return "audio-classification";
        }
        return task;
      }
    }
  }
  if (s.has_output("start_logits")) return "question-answering";
  if (s.has_output("sentence_embedding")) return "sentence-embeddings";
  if (s.has_output("reconstruction")) return "image-to-image";
  return "feature-extraction";
}

int info_command(const std::string& model) {
  using namespace ortformers;
  auto m = models::ORTModelForCustomTasks::from_pretrained(model);
  const auto& cfg = m.config();
  Json c = cfg.json();
  Json out = {{"model_dir", m.model_dir().string()},
              {"onnx_file", m.model_path().string()},
              {"onnx_runtime", runtime::ort_version()},
              {"model_type", cfg.model_type()},
              {"architectures", cfg.architectures()},
              {"task", detect_task(cfg, m.model_dir(), m.session())},
              {"inputs", describe(m.session().inputs())},
              {"outputs", describe(m.session().outputs())},
              {"config", c}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

void register_info(CLI::App& app) {
  auto model = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "Show a model folder's config, graph inputs/outputs and detected task");
  cmd->add_option("--model", *model, "model folder")->required();
  ortformers::cli::command_actions()["info"] = [model] { return info_command(*model); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_info);
