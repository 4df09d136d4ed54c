// The extension module ortformers._ortformers; the `ortformers` package gives it optimum's and transformers' names.
#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/runtime/session.hpp"

PYBIND11_MODULE(_ortformers, m) {
  namespace py = pybind11;
  m.doc() = "ortformers: Hugging Face transformer models on ONNX Runtime (C++ core)";
  ortformers::python::register_errors(m);
  ortformers::python::bind_models(m);
  ortformers::python::bind_tokenizers(m);
  ortformers::python::bind_pipelines(m);
  ortformers::python::bind_generation(m);
  ortformers::python::bind_whisper(m);
  ortformers::python::bind_seq2seq(m);
  ortformers::python::bind_vision2seq(m);
  m.def("ort_version", &ortformers::runtime::ort_version);
  m.def(
      "to_lists",
      [](const py::handle& array) {
        return ortformers::python::tensor_to_nested_lists(ortformers::python::tensor_from_python(array, "array"));
      },
      "A float array as nested Python lists of floats (as ndarray.tolist())");
}
