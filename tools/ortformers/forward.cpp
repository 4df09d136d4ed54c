// ortformers forward --model DIR [--class NAME] --inputs FILE.json
// FILE: {"input_ids": {"shape": [1, 7], "data": [...]}, ...} (optional "dtype"; integers default to int64,
// fractional values to float32). Prints every output as {"name": {"shape": [...], "data": [flat row-major]}}.
// Without --class the ORTModelFor<Class> is the one the folder's config/graph implies (the task `info` detects),
// ORTModelForCustomTasks when no class fits. Names that are not graph inputs are ignored, as optimum does.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/models/ctc.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/models/image_to_image.hpp"
#include "ortformers/models/masked_lm.hpp"
#include "ortformers/models/multiple_choice.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/models/question_answering.hpp"
#include "ortformers/models/semantic_segmentation.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "ortformers/models/token_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "task_detection.hpp"

namespace {

using namespace ortformers;

Tensor tensor_from_json(const std::string& name, const Json& j) {
  if (!j.is_object() || !j.contains("shape") || !j.contains("data")) {
    throw InvalidArgument("input '" + name + "' must be an object with \"shape\" and \"data\"");
  }
  Shape shape;
  try {
    shape = j.at("shape").get<Shape>();
  } catch (const Json::exception&) {
    throw InvalidArgument("input '" + name + "': \"shape\" must be a list of integers");
  }
  const Json& data = j.at("data");
  if (!data.is_array()) throw InvalidArgument("input '" + name + "': \"data\" must be a flat list of numbers");
  std::string dtype = j.value("dtype", "");
  if (dtype.empty()) {
    dtype = "int64";
    for (const auto& v : data) {
      if (!v.is_number()) throw InvalidArgument("input '" + name + "': \"data\" holds a non-number: " + v.dump());
      if (v.is_number_float()) dtype = "float32";
    }
  }
  const DType dt = dtype_from_name(dtype);
  const auto n = shape_numel(shape);
  if (static_cast<std::int64_t>(data.size()) != n) {
    throw InvalidArgument("input '" + name + "': shape " + shape_to_string(shape) + " needs " + std::to_string(n) +
                          " values, \"data\" has " + std::to_string(data.size()));
  }
  std::vector<double> values;
  values.reserve(data.size());
  for (const auto& v : data) {
    if (!v.is_number() && !v.is_boolean())
      throw InvalidArgument("input '" + name + "': non-number in data: " + v.dump());
    values.push_back(v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>());
  }
  if (dt == DType::Int64) {
    std::vector<std::int64_t> iv;
    for (const auto& v : data) iv.push_back(v.is_boolean() ? v.get<bool>() : v.get<std::int64_t>());
    return Tensor::from_vector(std::move(iv), shape);
  }
  return Tensor::from_vector(std::move(values), shape).to(dt);
}

Json tensor_to_json(const Tensor& t) {
  Json data = Json::array();
  switch (t.dtype()) {
    case DType::Int64:
      for (auto v : t.span<std::int64_t>()) data.push_back(v);
      break;
    case DType::Int32:
      for (auto v : t.span<std::int32_t>()) data.push_back(v);
      break;
    case DType::Bool:
      for (auto v : t.span<bool>()) data.push_back(v);
      break;
    default:
      for (float v : t.to_float_vector()) data.push_back(v);
  }
  return {{"shape", t.shape()}, {"dtype", dtype_name(t.dtype())}, {"data", data}};
}

// Each ORTModelFor<Class>: its from_pretrained (file lookup, config, the class's own checks); the graph is then run
// with validated, completed inputs and every output printed by name (the class's output fields are graph outputs).
template <class M>
std::unique_ptr<models::ORTModel> load_as(const std::string& model) {
  return std::make_unique<M>(M::from_pretrained(model));
}
using Loader = std::unique_ptr<models::ORTModel> (*)(const std::string&);
const std::vector<std::pair<std::string, Loader>>& classes() {
  static const std::vector<std::pair<std::string, Loader>> list = {
      {"FeatureExtraction", load_as<models::ORTModelForFeatureExtraction>},
      {"CustomTasks", load_as<models::ORTModelForCustomTasks>},
      {"SequenceClassification", load_as<models::ORTModelForSequenceClassification>},
      {"TokenClassification", load_as<models::ORTModelForTokenClassification>},
      {"QuestionAnswering", load_as<models::ORTModelForQuestionAnswering>},
      {"MaskedLM", load_as<models::ORTModelForMaskedLM>},
      {"MultipleChoice", load_as<models::ORTModelForMultipleChoice>},
      {"ImageClassification", load_as<models::ORTModelForImageClassification>},
      {"SemanticSegmentation", load_as<models::ORTModelForSemanticSegmentation>},
      {"AudioClassification", load_as<models::ORTModelForAudioClassification>},
      {"AudioFrameClassification", load_as<models::ORTModelForAudioFrameClassification>},
      {"AudioXVector", load_as<models::ORTModelForAudioXVector>},
      {"CTC", load_as<models::ORTModelForCTC>},
      {"ImageToImage", load_as<models::ORTModelForImageToImage>},
      {"CausalLM", load_as<models::ORTModelForCausalLM>}};  // run by causal_lm_forward
  return list;
}

const std::pair<std::string, Loader>& find_class(std::string cls) {
  if (cls.rfind("ORTModelFor", 0) == 0) cls = cls.substr(11);
  const auto& list = classes();
  const auto found = std::find_if(list.begin(), list.end(), [&](const auto& c) { return c.first == cls; });
  if (found == list.end()) {
    std::string names;
    for (const auto& c : list) names += (names.empty() ? "" : ", ") + c.first;
    throw InvalidArgument("unknown --class '" + cls + "' (one of: " + names + ")");
  }
  return *found;
}

// ORTModelForCausalLM.forward: input_ids, attention_mask, position_ids (computed from the mask when absent) and
// past_key_values.<i>.key / .value from the file; prints logits and present.<i>.key / .value.
int causal_lm_forward(const std::string& model, const Json& in) {
  const auto m = models::ORTModelForCausalLM::from_pretrained(model);
  std::cerr << "ortformers forward: using ORTModelForCausalLM (" << models::layout_name(m.layout()) << ")\n";
  const auto get = [&](const std::string& name) {
    return in.contains(name) ? tensor_from_json(name, in.at(name)) : Tensor{};
  };
  models::PastKeyValues past;
  for (std::int64_t l = 0; l < m.num_layers(); ++l) {
    const std::string k = "past_key_values." + std::to_string(l) + ".key";
    const std::string v = "past_key_values." + std::to_string(l) + ".value";
    if (in.contains(k) || in.contains(v)) past.push_back({get(k), get(v)});
  }
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& k = it.key();
    if (k != "input_ids" && k != "attention_mask" && k != "position_ids" && !k.starts_with("past_key_values."))
      std::cerr << "ortformers forward: ignoring '" << k << "', not an input of ORTModelForCausalLM.forward\n";
  }
  const auto out = m.forward(get("input_ids"), get("attention_mask"), get("position_ids"), past);
  Json j = Json::object();
  j["logits"] = tensor_to_json(out.logits);
  for (std::size_t l = 0; l < out.past_key_values.size(); ++l) {
    j["present." + std::to_string(l) + ".key"] = tensor_to_json(out.past_key_values[l].key);
    j["present." + std::to_string(l) + ".value"] = tensor_to_json(out.past_key_values[l].value);
  }
  cli::print_json_line(j);
  return 0;
}

int forward_command(const std::string& model, const std::string& class_arg, const std::string& inputs_file) {
  std::string cls = class_arg.empty() ? "" : find_class(class_arg).first;
  const Json in = read_json_file(inputs_file);
  if (!in.is_object()) throw InvalidArgument(inputs_file + ": expected an object of named tensors");
  if (cls == "CausalLM") return causal_lm_forward(model, in);
  std::unique_ptr<models::ORTModel> m;
  if (cls.empty()) {
    // The class the folder implies: the task `ortformers info` detects, when the graph has that class's outputs.
    auto probe =
        std::make_unique<models::ORTModelForCustomTasks>(models::ORTModelForCustomTasks::from_pretrained(model));
    // A decoder exported with its cache (optimum's text-generation-with-past): ORTModelForCausalLM.
    if (probe->session().has_input("past_key_values.0.key")) return causal_lm_forward(model, in);
    cls = cli::model_class_for(pipelines::detect_task(*probe), probe->session());
    std::cerr << "ortformers forward: using ORTModelFor" << cls << " (--class overrides)\n";
    if (cls == "CustomTasks") m = std::move(probe);
  }
  if (!m) m = find_class(cls).second(model);
  for (const auto& o : cli::outputs_read_by(cls)) {
    if (!m->session().has_output(o)) {
      throw RuntimeError("graph " + m->model_path().string() + " has no '" + o + "' output, which ORTModelFor" + cls +
                         " reads; use --class CustomTasks for arbitrary graphs");
    }
  }
  // optimum's ORTModel classes take the graph's inputs from the keyword arguments and ignore the others.
  TensorMap inputs;
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (!m->session().has_input(it.key())) {
      std::cerr << "ortformers forward: ignoring '" << it.key() << "', not an input of the graph\n";
      continue;
    }
    inputs.emplace(it.key(), tensor_from_json(it.key(), it.value()));
  }
  Json out = Json::object();
  for (const auto& [name, t] : m->run(inputs)) out[name] = tensor_to_json(t);
  cli::print_json_line(out);
  return 0;
}

void register_forward(CLI::App& app) {
  struct Args {
    cli::ModelArgs m;
    std::string cls, inputs;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("forward", "Run a model's forward() on named tensors from a JSON file");
  cli::add_model_options(*cmd, a->m, cli::kModel);
  cmd->add_option("--class", a->cls,
                  "ORTModel class (FeatureExtraction, CustomTasks, SequenceClassification, ...); default: the one the "
                  "folder's config/graph implies");
  cmd->add_option("--inputs", a->inputs, "JSON file of named tensors")->required();
  ortformers::cli::command_actions()["forward"] = [a] { return forward_command(a->m.model, a->cls, a->inputs); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_forward);
