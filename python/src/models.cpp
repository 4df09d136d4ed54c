// ORTModel and the 14 ORTModelFor<Task> classes. forward() converts the inputs (zero-copy for C-contiguous numpy
// arrays), releases the GIL while ONNX Runtime runs, and returns the outputs as (name, numpy array) pairs in
// optimum's order; the Python package wraps them into ModelOutput objects.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/ctc.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/models/image_to_image.hpp"
#include "ortformers/models/masked_lm.hpp"
#include "ortformers/models/multiple_choice.hpp"
#include "ortformers/models/question_answering.hpp"
#include "ortformers/models/semantic_segmentation.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "ortformers/models/token_classification.hpp"

namespace ortformers::python {

using namespace ortformers::models;
using Outputs = std::vector<std::pair<std::string, py::array>>;

namespace {

Outputs named(std::initializer_list<std::pair<const char*, const Tensor*>> items) {
  Outputs out;
  for (const auto& [name, t] : items) out.emplace_back(name, tensor_to_numpy(*t));
  return out;
}

// Every graph output, in the graph's order (optimum's ModelOutput keeps it; TensorMap is sorted by name).
Outputs in_graph_order(const ORTModel& model, const TensorMap& outputs) {
  Outputs out;
  for (const auto& name : model.output_names()) {
    auto it = outputs.find(name);
    if (it != outputs.end()) out.emplace_back(name, tensor_to_numpy(it->second));
  }
  return out;
}

Outputs to_outputs(const ORTModel& model, const BaseModelOutput& o) {
  Outputs out = named({{"last_hidden_state", &o.last_hidden_state}});
  for (const auto& [name, t] : in_graph_order(model, o.others)) out.emplace_back(name, t);
  return out;
}
Outputs to_outputs(const ORTModel& model, const TensorMap& o) {
  return in_graph_order(model, o);
}
Outputs to_outputs(const ORTModel&, const QuestionAnsweringModelOutput& o) {
  return named({{"start_logits", &o.start_logits}, {"end_logits", &o.end_logits}});
}
Outputs to_outputs(const ORTModel&, const XVectorOutput& o) {
  return named({{"logits", &o.logits}, {"embeddings", &o.embeddings}});
}
Outputs to_outputs(const ORTModel&, const ImageSuperResolutionOutput& o) {
  return named({{"reconstruction", &o.reconstruction}});
}
// The single-logits outputs (SequenceClassifierOutput, MaskedLMOutput, ...).
template <class O>
requires requires(const O& o) {
  o.logits;
}
Outputs to_outputs(const ORTModel&, const O& o) {
  return named({{"logits", &o.logits}});
}

template <class M>
void bind_model(py::module_& m, const char* name) {
  py::class_<M, ORTModel>(m, name)
      .def_static(
          "from_pretrained",
          [](const std::string& model_id_or_path, const ModelOptions& options) {
            py::gil_scoped_release release;
            return M::from_pretrained(model_id_or_path, options);
          },
          py::arg("model_id_or_path"), py::arg("options"))
      .def(
          "forward",
          [](const M& self, const py::handle& inputs) {
            const TensorMap feed = tensors_from_mapping(inputs);
            auto out = [&] {
              py::gil_scoped_release release;
              return self.forward(feed);
            }();
            return to_outputs(self, out);
          },
          py::arg("inputs"));
}

}  // namespace

void bind_models(py::module_& m) {
  py::enum_<runtime::GraphOptimizationLevel>(m, "GraphOptimizationLevel")
      .value("ORT_DISABLE_ALL", runtime::GraphOptimizationLevel::Disabled)
      .value("ORT_ENABLE_BASIC", runtime::GraphOptimizationLevel::Basic)
      .value("ORT_ENABLE_EXTENDED", runtime::GraphOptimizationLevel::Extended)
      .value("ORT_ENABLE_ALL", runtime::GraphOptimizationLevel::All);
  py::class_<runtime::SessionOptions>(m, "SessionOptions")
      .def(py::init<>())
      .def_readwrite("intra_op_num_threads", &runtime::SessionOptions::intra_op_num_threads)
      .def_readwrite("inter_op_num_threads", &runtime::SessionOptions::inter_op_num_threads)
      .def_readwrite("graph_optimization_level", &runtime::SessionOptions::graph_optimization_level)
      .def_readwrite("execution_providers", &runtime::SessionOptions::execution_providers)
      .def_readwrite("enable_cpu_mem_arena", &runtime::SessionOptions::enable_cpu_mem_arena)
      .def_readwrite("enable_mem_pattern", &runtime::SessionOptions::enable_mem_pattern)
      .def_readwrite("optimized_model_filepath", &runtime::SessionOptions::optimized_model_filepath)
      .def_readwrite("ort_format_cache_dir", &runtime::SessionOptions::ort_format_cache_dir)
      .def("add_session_config_entry", [](runtime::SessionOptions& o, const std::string& key,
                                          const std::string& value) { o.config_entries[key] = value; });
  py::class_<ModelOptions>(m, "ModelOptions")
      .def(py::init<>())
      .def_readwrite("file_name", &ModelOptions::file_name)
      .def_readwrite("subfolder", &ModelOptions::subfolder)
      .def_readwrite("export", &ModelOptions::export_model)
      .def_readwrite("task", &ModelOptions::task)
      .def_readwrite("session", &ModelOptions::session)
      .def_readwrite("revision", &ModelOptions::revision)
      .def_readwrite("token", &ModelOptions::token)
      .def_readwrite("local_files_only", &ModelOptions::local_files_only);

  py::class_<ORTModel>(m, "ORTModel")
      .def_property_readonly("config", [](const ORTModel& self) { return json_to_python(self.config().json()); })
      .def_property_readonly("model_dir", &ORTModel::model_dir)
      .def_property_readonly("model_path", &ORTModel::model_path)
      .def_property_readonly("input_names", &ORTModel::input_names)
      .def_property_readonly("output_names", &ORTModel::output_names)
      .def("save_pretrained", &ORTModel::save_pretrained, py::arg("save_directory"));

  bind_model<ORTModelForFeatureExtraction>(m, "ORTModelForFeatureExtraction");
  bind_model<ORTModelForCustomTasks>(m, "ORTModelForCustomTasks");
  bind_model<ORTModelForSequenceClassification>(m, "ORTModelForSequenceClassification");
  bind_model<ORTModelForTokenClassification>(m, "ORTModelForTokenClassification");
  bind_model<ORTModelForQuestionAnswering>(m, "ORTModelForQuestionAnswering");
  bind_model<ORTModelForMaskedLM>(m, "ORTModelForMaskedLM");
  bind_model<ORTModelForMultipleChoice>(m, "ORTModelForMultipleChoice");
  bind_model<ORTModelForImageClassification>(m, "ORTModelForImageClassification");
  bind_model<ORTModelForSemanticSegmentation>(m, "ORTModelForSemanticSegmentation");
  bind_model<ORTModelForImageToImage>(m, "ORTModelForImageToImage");
  bind_model<ORTModelForAudioClassification>(m, "ORTModelForAudioClassification");
  bind_model<ORTModelForAudioFrameClassification>(m, "ORTModelForAudioFrameClassification");
  bind_model<ORTModelForAudioXVector>(m, "ORTModelForAudioXVector");
  bind_model<ORTModelForCTC>(m, "ORTModelForCTC");
}

}  // namespace ortformers::python
