#pragma once
// pipeline(task, model): transformers' pipeline API. Every task pipeline derives from Pipeline and registers
// itself (one file per task, ORTFORMERS_REGISTER_PIPELINE). Results are typed in each task's header; `call`
// is the Python-shaped door used by the CLI: JSON in (first positional argument, or an object of the Python
// argument names), JSON out, exactly what the transformers pipeline returns.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/models/ort_model.hpp"

namespace ortformers::pipelines {

struct PipelineOptions {
  models::ModelOptions model;              // from_pretrained options (file_name, export, session options, ...)
  std::string tokenizer;                   // tokenizer folder/file ("" = the model folder)
  std::filesystem::path output_dir = ".";  // where pipelines that produce files (images) write them
  std::string task;  // the task as asked (set by pipeline(): e.g. translation_en_to_de); "" = the class's own
};

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  virtual std::string task() const = 0;
  // input: a string (or other first positional value), or an object whose keys are the Python argument names
  // ({"text": ..., "text_pair": ...}, {"question": ..., "context": ...}). kwargs: keyword arguments.
  virtual Json call(const Json& input, const Json& kwargs = Json::object()) = 0;
  // Several inputs with the same kwargs; the default calls `call` for each. Pipelines that batch override it.
  virtual std::vector<Json> call_batch(const std::vector<Json>& inputs, const Json& kwargs = Json::object());
  // The underlying model (for benchmarks and `ortformers info`).
  virtual const models::ORTModel& model() const = 0;
};

using PipelineFactory =
    std::function<std::unique_ptr<Pipeline>(const std::string& model_id_or_path, const PipelineOptions& options)>;

// Registers a task (and aliases, e.g. "sentiment-analysis" for "text-classification").
void register_pipeline(const std::string& task, PipelineFactory factory, std::vector<std::string> aliases = {});
std::vector<std::string> supported_tasks();  // sorted, aliases included
// The pipeline task a model folder serves, as transformers / optimum infer it: the architecture's head (an NLI head
// serves zero-shot-classification), a sentence-transformers folder, else from the graph's outputs.
std::string detect_task(const models::ORTModel& model);
// transformers' pipeline(task, model). UnsupportedError listing the known tasks for an unknown one. An empty
// model_id_or_path is model=None: the task's default model, as pipeline(task) below.
std::unique_ptr<Pipeline> pipeline(const std::string& task, const std::string& model_id_or_path,
                                   const PipelineOptions& options = {});

// The model transformers 4.31's pipeline(task) picks when none is given (SUPPORTED_TASKS "default", PyTorch), e.g.
// {"distilbert-base-uncased-finetuned-sst-2-english", "af0f99b"} for text-classification / sentiment-analysis.
struct DefaultModel {
  std::string id;
  std::string revision;
};
std::optional<DefaultModel> default_model(const std::string& task);  // nullopt: the task has no default
// transformers' pipeline(task) without a model: the task's default model and revision (unless options.model.revision
// names another), resolved through the Hugging Face cache / hub; the repo's ONNX file when it has one, else its
// PyTorch checkpoint exported natively. Warns on stderr which model was chosen, as transformers does. Offline
// (HF_HUB_OFFLINE=1, local_files_only) without the model cached: NotFoundError naming the id and HF_HUB_OFFLINE.
std::unique_ptr<Pipeline> pipeline(const std::string& task, const PipelineOptions& options = {});

// Helpers for kwargs: a typed value or the default, InvalidArgument naming the key on a wrong type.
template <class T>
T kwarg(const Json& kwargs, const std::string& key, T fallback) {
  if (!kwargs.is_object() || !kwargs.contains(key) || kwargs.at(key).is_null()) return fallback;
  try {
    return kwargs.at(key).get<T>();
  } catch (const Json::exception&) {
    throw InvalidArgument("pipeline argument '" + key + "' has the wrong type: " + kwargs.at(key).dump());
  }
}
// InvalidArgument naming the unknown key when kwargs holds a key outside `known`.
void check_kwargs(const Json& kwargs, const std::vector<std::string>& known, const std::string& task);

// The factory of a pipeline class constructible from (model, options), for ORTFORMERS_REGISTER_PIPELINE.
template <class P>
std::unique_ptr<Pipeline> make_pipeline(const std::string& model_id_or_path, const PipelineOptions& options) {
  return std::make_unique<P>(model_id_or_path, options);
}

// transformers' rule for `call`: a list input gives the list of the results of its items, any other input one result.
template <class F>
Json map_inputs(const Json& input, F&& one) {
  if (!input.is_array()) return one(input);
  Json out = Json::array();
  for (const auto& item : input) out.push_back(one(item));
  return out;
}

struct RegisterPipeline {
  RegisterPipeline(const std::string& task, PipelineFactory f, std::vector<std::string> aliases = {}) {
    register_pipeline(task, std::move(f), std::move(aliases));
  }
};

}  // namespace ortformers::pipelines

// Static registration from a pipeline's .cpp. The pipelines library is linked with --whole-archive semantics
// (see CMakeLists) so these registrations are never dropped by the linker.
#define ORTFORMERS_PIPELINE_CAT2(a, b) a##b
#define ORTFORMERS_PIPELINE_CAT(a, b) ORTFORMERS_PIPELINE_CAT2(a, b)
#define ORTFORMERS_REGISTER_PIPELINE(...) \
  static ::ortformers::pipelines::RegisterPipeline ORTFORMERS_PIPELINE_CAT(ortformers_pipeline_, __LINE__)(__VA_ARGS__)
