#pragma once
// ORTModel: the base of every ORTModelFor<Task> class, as optimum.onnxruntime.ORTModel. from_pretrained finds the
// ONNX file in a model folder as optimum does, or exports a PyTorch checkpoint natively (options.export_model).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/runtime/session.hpp"

namespace ortformers::models {

struct ModelOptions {
  std::string file_name;            // e.g. "model_quantized.onnx"; empty = find as optimum does
  std::string subfolder;            // look inside this subfolder of the model folder
  bool export_model = false;        // optimum's export=True: export the PyTorch checkpoint natively
  std::string task;                 // export task override ("" = from the class)
  runtime::SessionOptions session;  // ONNX Runtime session options
  // Hub options (ids like "org/name"): revision, token, local_files_only
  std::string revision = "main";
  std::optional<std::string> token;
  bool local_files_only = false;
  std::optional<std::filesystem::path> cache_dir{};  // else $HF_HUB_CACHE / $HF_HOME/hub / ~/.cache/huggingface/hub
};

// The ONNX file optimum would load from `dir`: options.file_name, else model.onnx, else a single *.onnx in dir or
// dir/onnx (optimum warns and takes the first of several; we refuse an ambiguous choice with an error listing them).
std::filesystem::path find_onnx_file(const std::filesystem::path& dir, const ModelOptions& options = {});

class ORTModel {
 public:
  virtual ~ORTModel() = default;
  // Copies share the ONNX Runtime session (Run is thread-safe), as a Python model object passed to a pipeline is
  // shared rather than duplicated.
  ORTModel(const ORTModel&) = default;
  ORTModel& operator=(const ORTModel&) = default;
  ORTModel(ORTModel&&) noexcept = default;
  ORTModel& operator=(ORTModel&&) noexcept = default;

  const config::PretrainedConfig& config() const noexcept { return config_; }
  const runtime::Session& session() const noexcept { return *session_; }
  runtime::Session& session() noexcept { return *session_; }
  const std::filesystem::path& model_dir() const noexcept { return model_dir_; }
  const std::filesystem::path& model_path() const noexcept { return model_path_; }
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;

  // Copies the ONNX file (and its external data) and config.json to dir, as optimum's save_pretrained.
  void save_pretrained(const std::filesystem::path& dir) const;

  // Validates and completes named inputs for this graph: fills token_type_ids with zeros when the graph declares
  // it and the caller omits it; a missing required input is an InvalidArgument naming it; names the graph does not
  // take are an InvalidArgument listing the graph's inputs. Returns the graph outputs by name.
  TensorMap run(const TensorMap& inputs) const;

 protected:
  ORTModel() = default;
  // Resolves id/dir (+ export), loads config.json and the session. task: the export task of the subclass.
  void load(const std::string& model_id_or_path, const ModelOptions& options, const std::string& task);
  // The second half of load(), for classes that choose their file(s) themselves (ORTModelForCausalLM): reads
  // config.json (model_dir's, else the one next to model_path) and opens the session on model_path.
  void load_resolved(const std::filesystem::path& model_dir, const std::filesystem::path& model_path,
                     const runtime::SessionOptions& session);
  // The body of every ORTModelFor<Task>::from_pretrained: a Model loaded by load() for export task `task`.
  template <class Model>
  static Model load_pretrained(const std::string& model_id_or_path, const ModelOptions& options,
                               const std::string& task) {
    Model model;
    static_cast<ORTModel&>(model).load(model_id_or_path, options, task);
    return model;
  }
  // The audio classes' inputs as optimum feeds them: attention_mask only when the graph declares it (base wav2vec2
  // checkpoints take none), and the audio tensor under the graph's own name: a graph taking input_features
  // (whisper-style encoders) gets input_values passed as input_features, and the other way round.
  TensorMap audio_feed(const TensorMap& inputs) const;
  // A required output of the graph; RuntimeError naming it and the graph's outputs when absent.
  Tensor take_output(TensorMap& outputs, const std::string& name) const;
  Tensor take_output(TensorMap&& outputs, const std::string& name) const { return take_output(outputs, name); }

  config::PretrainedConfig config_;
  std::shared_ptr<runtime::Session> session_;
  std::filesystem::path model_dir_;
  std::filesystem::path model_path_;
};

// optimum's BaseModelOutput.
struct BaseModelOutput {
  Tensor last_hidden_state;  // [batch, seq, hidden] (or the vision/audio equivalent)
  TensorMap others;          // any other graph outputs (e.g. pooler_output, sentence_embedding)
};

class ORTModelForFeatureExtraction : public ORTModel {
 public:
  static ORTModelForFeatureExtraction from_pretrained(const std::string& model_id_or_path,
                                                      const ModelOptions& options = {});
  // Any of input_ids, attention_mask, token_type_ids, position_ids, pixel_values, input_features, input_values.
  BaseModelOutput forward(const TensorMap& inputs) const;
  BaseModelOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
  // The name of the hidden-state output: last_hidden_state, or token_embeddings for sentence-transformers graphs.
  const std::string& hidden_state_name() const noexcept { return hidden_state_name_; }

 private:
  std::string hidden_state_name_ = "last_hidden_state";
};

// optimum's ORTModelForCustomTasks: any graph, named tensors in, every graph output out.
class ORTModelForCustomTasks : public ORTModel {
 public:
  static ORTModelForCustomTasks from_pretrained(const std::string& model_id_or_path, const ModelOptions& options = {});
  TensorMap forward(const TensorMap& inputs) const { return run(inputs); }
  TensorMap operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
