// pipeline(task, ...): every registered task through its Python-shaped door (Python objects <-> JSON, GIL released
// while it runs), plus typed doors for the two embedding pipelines so that large float outputs become numpy arrays
// without a detour through JSON.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <mutex>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/pipelines/feature_extraction.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"

namespace ortformers::python {

using namespace ortformers::pipelines;

namespace {

// A task pipeline and the lock that serialises calls to it (`call` may keep per-call state; the models underneath
// are safe to share, a pipeline object is not guaranteed to be).
struct TaskPipeline {
  std::unique_ptr<Pipeline> pipeline;
  std::mutex mutex;
};

FeatureExtractionOptions feature_extraction_options(const Json& kwargs) {
  check_kwargs(kwargs, {"truncation", "tokenize_kwargs"}, "feature-extraction");
  FeatureExtractionOptions options;
  if (kwargs.contains("tokenize_kwargs"))
    options.tokenize = parse_tokenize_kwargs(kwargs.at("tokenize_kwargs"), "feature-extraction");
  if (kwargs.contains("truncation") && !kwargs.at("truncation").is_null()) {
    const Json& t = kwargs.at("truncation");
    options.truncation = t.is_boolean() ? t.get<bool>() : t != "do_not_truncate";
  }
  return options;
}

}  // namespace

void bind_pipelines(py::module_& m) {
  py::class_<PipelineOptions>(m, "PipelineOptions")
      .def(py::init<>())
      .def_readwrite("model", &PipelineOptions::model)
      .def_readwrite("tokenizer", &PipelineOptions::tokenizer)
      .def_readwrite("output_dir", &PipelineOptions::output_dir);

  m.def("supported_tasks", &supported_tasks);

  py::class_<TaskPipeline, std::shared_ptr<TaskPipeline>>(m, "TaskPipeline")
      .def(py::init([](const std::string& task, const std::string& model, const PipelineOptions& options) {
             auto p = std::make_shared<TaskPipeline>();
             py::gil_scoped_release release;
             p->pipeline = pipeline(task, model, options);
             return p;
           }),
           py::arg("task"), py::arg("model"), py::arg("options"))
      .def_property_readonly("task", [](const TaskPipeline& p) { return p.pipeline->task(); })
      .def(
          "call",
          [](TaskPipeline& p, const py::handle& input, const py::handle& kwargs) {
            const Json in = json_from_python(input), kw = json_from_python(kwargs);
            Json out;
            {
              py::gil_scoped_release release;
              std::lock_guard lock(p.mutex);
              out = p.pipeline->call(in, kw);
            }
            return json_to_python(out);
          },
          py::arg("inputs"), py::arg("kwargs"))
      .def(
          "call_batch",
          [](TaskPipeline& p, const py::list& inputs, const py::handle& kwargs) {
            std::vector<Json> in;
            for (auto item : inputs) in.push_back(json_from_python(item));
            const Json kw = json_from_python(kwargs);
            std::vector<Json> out;
            {
              py::gil_scoped_release release;
              std::lock_guard lock(p.mutex);
              out = p.pipeline->call_batch(in, kw);
            }
            py::list result(out.size());
            for (std::size_t i = 0; i < out.size(); ++i) result[i] = json_to_python(out[i]);
            return result;
          },
          py::arg("inputs"), py::arg("kwargs"));

  py::class_<FeatureExtractionPipeline>(m, "FeatureExtractionPipeline")
      .def(py::init<models::ORTModelForFeatureExtraction, tokenizers::PreTrainedTokenizer>(), py::arg("model"),
           py::arg("tokenizer"))
      .def_static(
          "from_pretrained",
          [](const std::string& model, const PipelineOptions& options) {
            py::gil_scoped_release release;
            return std::move(*FeatureExtractionPipeline::from_pretrained(model, options));
          },
          py::arg("model"), py::arg("options"))
      // One padded batch through the model; each text's [1, seq, hidden] float32 features, as numpy arrays
      // (as_lists=false) or as the nested lists transformers returns (as_lists=true).
      .def(
          "run",
          [](const FeatureExtractionPipeline& p, const std::vector<std::string>& texts, const py::handle& kwargs,
             bool as_lists) {
            const FeatureExtractionOptions options = feature_extraction_options(json_from_python(kwargs));
            std::vector<Tensor> out;
            {
              py::gil_scoped_release release;
              out = p(texts, options);
            }
            py::list result(out.size());
            for (std::size_t i = 0; i < out.size(); ++i)
              result[i] = as_lists ? py::object(tensor_to_nested_lists(out[i])) : py::object(tensor_to_numpy(out[i]));
            return result;
          },
          py::arg("texts"), py::arg("kwargs"), py::arg("as_lists") = false);

  py::class_<SentenceEmbeddingsPipeline>(m, "SentenceEmbeddingsPipeline")
      .def_static(
          "from_pretrained",
          [](const std::string& model, const PipelineOptions& options) {
            py::gil_scoped_release release;
            return std::move(*SentenceEmbeddingsPipeline::from_pretrained(model, options));
          },
          py::arg("model"), py::arg("options"))
      .def_property_readonly("max_seq_length", &SentenceEmbeddingsPipeline::max_seq_length)
      .def(
          "encode",
          [](const SentenceEmbeddingsPipeline& p, const std::vector<std::string>& texts, std::size_t batch_size,
             std::optional<bool> normalize, const std::optional<std::string>& pooling) {
            EncodeOptions options;
            if (batch_size == 0) throw InvalidArgument("batch_size must be positive");
            options.batch_size = batch_size;
            options.normalize = normalize;
            if (pooling) options.pooling = pooling_mode_from_string(*pooling);
            Tensor out;
            {
              py::gil_scoped_release release;
              out = p.encode(texts, options);
            }
            return tensor_to_numpy(out);
          },
          py::arg("texts"), py::arg("batch_size"), py::arg("normalize"), py::arg("pooling"));
}

}  // namespace ortformers::python
