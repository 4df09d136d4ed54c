#pragma once
// One bind_* function per binding file; module.cpp calls them in dependency order.
#include <pybind11/pybind11.h>

namespace ortformers::python {

void bind_models(pybind11::module_& m);
void bind_tokenizers(pybind11::module_& m);
void bind_pipelines(pybind11::module_& m);
void bind_generation(pybind11::module_& m);
void bind_whisper(pybind11::module_& m);

}  // namespace ortformers::python
