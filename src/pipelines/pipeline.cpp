#include "ortformers/pipelines/pipeline.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>

#include "ortformers/core/error.hpp"
#include "ortformers/hub/constants.hpp"
#include "ortformers/hub/hub.hpp"
#include "ortformers/pipelines/text2text_generation.hpp"

namespace ortformers::pipelines {

namespace fs = std::filesystem;

namespace {
struct Registry {
  std::mutex mu;
  std::map<std::string, PipelineFactory> factories;  // canonical task -> factory
  std::map<std::string, std::string> aliases;        // alias -> canonical task
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void register_pipeline(const std::string& task, PipelineFactory factory, std::vector<std::string> aliases) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[task] = std::move(factory);
  for (auto& a : aliases) r.aliases[a] = task;
}

std::vector<std::string> supported_tasks() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> tasks;
  for (const auto& [t, f] : r.factories) tasks.push_back(t);
  for (const auto& [a, t] : r.aliases) tasks.push_back(a);
  std::sort(tasks.begin(), tasks.end());
  return tasks;
}

namespace {

std::string canonical_task(const std::string& task) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  if (auto a = r.aliases.find(task); a != r.aliases.end()) return a->second;
  return task;
}

PipelineFactory find_factory(const std::string& task) {
  PipelineFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::string canonical = task;
    if (auto a = r.aliases.find(task); a != r.aliases.end()) canonical = a->second;
    if (auto f = r.factories.find(canonical); f != r.factories.end()) factory = f->second;
    // translation_XX_to_YY: the translation pipeline (4.31 check_task), which reads the task from its options.
    if (!factory && canonical.rfind("translation", 0) == 0) {
      if (auto f = r.factories.find("translation"); f != r.factories.end()) factory = f->second;
    }
  }
  if (factory && task.rfind("translation", 0) == 0) check_translation_task(task);
  if (!factory) {
    std::string list;
    for (const auto& t : supported_tasks()) list += (list.empty() ? "" : ", ") + t;
    throw UnsupportedError("unknown pipeline task '" + task + "'; supported tasks: " + list);
  }
  return factory;
}

bool has_onnx_file(const fs::path& dir) {
  for (const auto& d : {dir, dir / "onnx"}) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".onnx") return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Pipeline> pipeline(const std::string& task, const std::string& model_id_or_path,
                                   const PipelineOptions& options) {
  if (model_id_or_path.empty()) return pipeline(task, options);  // transformers' model=None
  const auto factory = find_factory(task);
  PipelineOptions o = options;
  if (o.task.empty()) o.task = task;
  return factory(model_id_or_path, o);
}

std::optional<DefaultModel> default_model(const std::string& task) {
  // transformers 4.31 src/transformers/pipelines/__init__.py, SUPPORTED_TASKS[task]["default"]["model"]["pt"], for
  // the tasks ortformers has a pipeline for.
  static const std::map<std::string, DefaultModel> defaults = {
      {"audio-classification", {"superb/wav2vec2-base-superb-ks", "372e048"}},
      {"automatic-speech-recognition", {"facebook/wav2vec2-base-960h", "55bb623"}},
      {"feature-extraction", {"distilbert-base-cased", "935ac13"}},
      {"text-classification", {"distilbert-base-uncased-finetuned-sst-2-english", "af0f99b"}},
      {"token-classification", {"dbmdz/bert-large-cased-finetuned-conll03-english", "f2482bf"}},
      {"question-answering", {"distilbert-base-cased-distilled-squad", "626af31"}},
      {"fill-mask", {"distilroberta-base", "ec58a5b"}},
      {"zero-shot-classification", {"facebook/bart-large-mnli", "c626438"}},
      {"image-classification", {"google/vit-base-patch16-224", "5dca96d"}},
      {"image-segmentation", {"facebook/detr-resnet-50-panoptic", "fc15262"}},
      {"image-to-image", {"caidas/swin2SR-classical-sr-x2-64", "4aaedcb"}},
      {"image-to-text", {"ydshieh/vit-gpt2-coco-en", "65636df"}},
      {"summarization", {"sshleifer/distilbart-cnn-12-6", "a4f8f3e"}},
      {"text2text-generation", {"t5-base", "686f1db"}},
      {"translation_en_to_fr", {"t5-base", "686f1db"}},
      {"translation_en_to_de", {"t5-base", "686f1db"}},
      {"translation_en_to_ro", {"t5-base", "686f1db"}},
  };
  const auto it = defaults.find(canonical_task(task));
  if (it == defaults.end()) return std::nullopt;
  return it->second;
}

std::unique_ptr<Pipeline> pipeline(const std::string& task, const PipelineOptions& options) {
  const auto factory = find_factory(task);
  const auto def = default_model(task);
  if (!def && task == "translation") {
    throw InvalidArgument("The task defaults can't be correctly selected. You probably meant \"translation_XX_to_YY\"");
  }
  if (!def && task.rfind("translation_", 0) == 0) {
    check_translation_task(task);
    const auto options_start = task.find('_') + 1;
    const auto to = task.find("_to_");
    throw InvalidArgument("The task does not provide any default models for options ('" +
                          task.substr(options_start, to - options_start) + "', '" + task.substr(to + 4) + "')");
  }
  if (!def) {
    throw InvalidArgument("pipeline('" + task + "'): no model given, and transformers has no default model for " +
                          "this task; give one (a folder or a hub id, --model on the command line)");
  }
  PipelineOptions o = options;
  if (o.task.empty()) o.task = task;
  if (o.model.revision.empty() || o.model.revision == "main") o.model.revision = def->revision;
  std::cerr << "No model was supplied, defaulted to " << def->id << " and revision " << o.model.revision
            << " (https://huggingface.co/" << def->id << ").\n"
            << "Using a pipeline without specifying a model name and revision in production is not recommended.\n";
  hub::HubOptions h;
  h.revision = o.model.revision;
  h.token = o.model.token;
  h.local_files_only = o.model.local_files_only;
  fs::path dir;
  try {
    dir = hub::resolve_model(def->id, h);
  } catch (const NotFoundError& e) {
    if (o.model.local_files_only || hub::is_offline_mode()) {
      throw NotFoundError("pipeline('" + task + "'): the default model " + def->id + " (revision " + o.model.revision +
                          ") is not in the Hugging Face cache, and HF_HUB_OFFLINE=1 (or " +
                          "local_files_only) forbids downloading it. Download it once online (ortformers download " +
                          def->id + " --revision " + o.model.revision + "), or give a model. (" + e.what() + ")");
    }
    throw;
  }
  // The repo's ONNX export when it has one; otherwise its PyTorch checkpoint, exported natively (optimum's
  // from_pretrained(..., export=True)).
  if (!has_onnx_file(dir)) o.model.export_model = true;
  return factory(def->id, o);
}

std::vector<Json> Pipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  std::vector<Json> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs) out.push_back(call(in, kwargs));
  return out;
}

void check_kwargs(const Json& kwargs, const std::vector<std::string>& known, const std::string& task) {
  if (kwargs.is_null()) return;
  if (!kwargs.is_object()) throw InvalidArgument(task + ": keyword arguments must be a JSON object");
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw InvalidArgument(task + " pipeline: unknown argument '" + it.key() + "' (known: " + list + ")");
    }
  }
}

}  // namespace ortformers::pipelines
