// ortformers forward --model DIR [--class NAME] --inputs FILE.json
// FILE: {"input_ids": {"shape": [1, 7], "data": [...]}, ...} (optional "dtype"; integers default to int64,
// fractional values to float32). Prints every output as {"name": {"shape": [...], "data": [flat row-major]}}.
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/models/ort_model.hpp"

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
    if (!v.is_number() && !v.is_boolean()) throw InvalidArgument("input '" + name + "': non-number in data: " + v.dump());
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

const std::vector<std::string> kClasses = {
    "FeatureExtraction", "CustomTasks", "SequenceClassification", "TokenClassification", "QuestionAnswering",
    "MaskedLM", "MultipleChoice", "ImageClassification", "SemanticSegmentation", "AudioClassification",
    "AudioFrameClassification", "AudioXVector", "CTC", "ImageToImage"};

int forward_command(const std::string& model, std::string cls, const std::string& inputs_file) {
  if (cls.rfind("ORTModelFor", 0) == 0) cls = cls.substr(11);
  if (std::find(kClasses.begin(), kClasses.end(), cls) == kClasses.end()) {
    std::string list;
    for (const auto& c : kClasses) list += (list.empty() ? "" : ", ") + c;
    throw InvalidArgument("unknown --class '" + cls + "' (one of: " + list + ")");
  }
  const Json in = read_json_file(inputs_file);
  if (!in.is_object()) throw InvalidArgument(inputs_file + ": expected an object of named tensors");
  TensorMap inputs;
  for (auto it = in.begin(); it != in.end(); ++it) inputs.emplace(it.key(), tensor_from_json(it.key(), it.value()));
  Json out = Json::object();
  if (cls == "FeatureExtraction") {
    auto m = models::ORTModelForFeatureExtraction::from_pretrained(model);
    auto r = m.forward(inputs);
    out["last_hidden_state"] = tensor_to_json(r.last_hidden_state);
    for (const auto& [name, t] : r.others) out[name] = tensor_to_json(t);
  } else {
    // Every task class's forward() is the graph run with validated, completed inputs, its outputs by name (logits,
    // start_logits/end_logits, embeddings, reconstruction): the same as CustomTasks at the tensor level.
    auto m = models::ORTModelForCustomTasks::from_pretrained(model);
    for (const auto& [name, t] : m.forward(inputs)) out[name] = tensor_to_json(t);
  }
  cli::print_json_line(out);
  return 0;
}

void register_forward(CLI::App& app) {
  struct Args {
    std::string model, cls = "FeatureExtraction", inputs;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("forward", "Run a model's forward() on named tensors from a JSON file");
  cmd->add_option("--model", a->model, "model folder")->required();
  cmd->add_option("--class", a->cls, "ORTModel class (FeatureExtraction, CustomTasks, SequenceClassification, ...)");
  cmd->add_option("--inputs", a->inputs, "JSON file of named tensors")->required();
  ortformers::cli::command_actions()["forward"] = [a] { return forward_command(a->model, a->cls, a->inputs); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_forward);
