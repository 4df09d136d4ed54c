#include "ortformers/models/ort_model.hpp"

#include <algorithm>

#include "model_resolution.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> onnx_files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".onnx") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string join_names(const std::vector<fs::path>& files) {
  std::string s;
  for (const auto& f : files) s += (s.empty() ? "" : ", ") + f.filename().string();
  return s;
}

}  // namespace

fs::path find_onnx_file(const fs::path& dir, const ModelOptions& options) {
  const fs::path base = options.subfolder.empty() ? dir : dir / options.subfolder;
  if (!fs::is_directory(base)) throw NotFoundError("model folder not found: " + base.string());
  if (!options.file_name.empty()) {
    for (const fs::path& candidate : {base / options.file_name, base / "onnx" / options.file_name}) {
      if (fs::is_regular_file(candidate)) return candidate;
    }
    throw NotFoundError("ONNX file '" + options.file_name + "' not found in " + base.string());
  }
  for (const fs::path& folder : {base, base / "onnx"}) {
    if (fs::is_regular_file(folder / "model.onnx")) return folder / "model.onnx";
    auto files = onnx_files_in(folder);
    if (files.size() == 1) return files.front();
    if (files.size() > 1) {
      throw InvalidArgument("several ONNX files in " + folder.string() + " (" + join_names(files) +
                            "): choose one with the file_name option");
    }
  }
  throw NotFoundError("no ONNX model file (*.onnx) in " + base.string() +
                      " — export a PyTorch checkpoint with the export option (or `ortformers export`)");
}

void ORTModel::load(const std::string& model_id_or_path, const ModelOptions& options, const std::string& task) {
  ModelOptions opts = options;
  if (fs::is_regular_file(model_id_or_path) && opts.file_name.empty()) {
    opts.file_name = fs::path(model_id_or_path).filename().string();  // a path to the .onnx file itself
  }
  const fs::path dir = resolve_model_dir(model_id_or_path, opts, task);
  load_resolved(dir, find_onnx_file(dir, opts), options.session);
}

void ORTModel::load_resolved(const fs::path& model_dir, const fs::path& model_path,
                             const runtime::SessionOptions& session) {
  model_dir_ = model_dir;
  model_path_ = model_path;
  // config.json: next to the ONNX file's folder root (optimum saves it in the model folder).
  fs::path cfg_dir = model_dir_;
  if (!fs::exists(cfg_dir / "config.json") && fs::exists(model_path_.parent_path() / "config.json")) {
    cfg_dir = model_path_.parent_path();
  }
  if (!fs::exists(cfg_dir / "config.json")) {
    throw NotFoundError("no config.json in " + model_dir_.string() + " (needed next to " +
                        model_path_.filename().string() + ")");
  }
  config_ = config::PretrainedConfig::from_pretrained(cfg_dir);
  session_ = std::make_shared<runtime::Session>(model_path_, session);
}

std::vector<std::string> ORTModel::input_names() const {
  std::vector<std::string> names;
  for (const auto& i : session_->inputs()) names.push_back(i.name);
  return names;
}

std::vector<std::string> ORTModel::output_names() const {
  std::vector<std::string> names;
  for (const auto& o : session_->outputs()) names.push_back(o.name);
  return names;
}

TensorMap ORTModel::audio_feed(const TensorMap& inputs) const {
  TensorMap feed = inputs;
  if (!session_->has_input("attention_mask")) feed.erase("attention_mask");
  for (const auto& [from, to] :
       {std::pair<const char*, const char*>{"input_values", "input_features"}, {"input_features", "input_values"}}) {
    if (!session_->has_input(to) || session_->has_input(from)) continue;  // rename only towards the graph's name
    auto it = feed.find(from);
    if (it == feed.end() || feed.count(to) != 0) continue;
    feed.emplace(to, it->second);
    feed.erase(it);
  }
  return feed;
}

TensorMap ORTModel::run(const TensorMap& inputs) const {
  // optimum's ORTModel classes read the graph's inputs out of the keyword arguments and ignore the others
  // (ORTModelForCustomTasks._prepare_onnx_inputs); a missing one is still an error naming the graph's inputs.
  TensorMap completed;
  for (const auto& [name, t] : inputs)
    if (session_->has_input(name)) completed.emplace(name, t);
  // optimum: token_type_ids default to zeros shaped like input_ids when the graph takes them.
  if (session_->has_input("token_type_ids") && !completed.count("token_type_ids")) {
    auto ids = completed.find("input_ids");
    if (ids != completed.end()) {
      completed.emplace("token_type_ids", Tensor::zeros(DType::Int64, ids->second.shape()));
    }
  }
  return session_->run(completed);
}

Tensor ORTModel::take_output(TensorMap& outputs, const std::string& name) const {
  auto it = outputs.find(name);
  if (it == outputs.end()) {
    std::string have;
    for (const auto& [n, t] : outputs) have += (have.empty() ? "" : ", ") + n;
    throw RuntimeError("graph " + model_path_.string() + " has no output '" + name + "' (outputs: " + have + ")");
  }
  Tensor t = std::move(it->second);
  outputs.erase(it);
  return t;
}

void ORTModel::save_pretrained(const fs::path& dir) const {
  fs::create_directories(dir);
  const auto copy = [&](const fs::path& from) {
    fs::copy_file(from, dir / from.filename(), fs::copy_options::overwrite_existing);
  };
  copy(model_path_);
  // External data written next to the graph by optimum / torch.onnx: <name>_data, <name>.data, or any file the
  // graph's initializers reference; copy the conventional names.
  for (const auto& suffix : {std::string("_data"), std::string(".data")}) {
    fs::path ext = model_path_;
    ext += suffix;
    if (fs::exists(ext)) copy(ext);
  }
  config_.save_pretrained(dir);
}

ORTModelForFeatureExtraction ORTModelForFeatureExtraction::from_pretrained(const std::string& model_id_or_path,
                                                                           const ModelOptions& options) {
  auto m = load_pretrained<ORTModelForFeatureExtraction>(model_id_or_path, options, "feature-extraction");
  if (!m.session_->has_output("last_hidden_state")) {
    if (m.session_->has_output("token_embeddings")) {
      m.hidden_state_name_ = "token_embeddings";  // optimum's sentence-transformers export
    } else {
      throw RuntimeError("graph " + m.model_path_.string() +
                         " has neither a 'last_hidden_state' nor a 'token_embeddings' output; use "
                         "ORTModelForCustomTasks for arbitrary graphs");
    }
  }
  return m;
}

BaseModelOutput ORTModelForFeatureExtraction::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  BaseModelOutput out;
  out.last_hidden_state = take_output(outputs, hidden_state_name_);
  out.others = std::move(outputs);
  return out;
}

ORTModelForCustomTasks ORTModelForCustomTasks::from_pretrained(const std::string& model_id_or_path,
                                                               const ModelOptions& options) {
  return load_pretrained<ORTModelForCustomTasks>(model_id_or_path, options, "feature-extraction");
}

}  // namespace ortformers::models
