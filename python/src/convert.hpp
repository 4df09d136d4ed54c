#pragma once
// Conversions between Python objects and the library's types, shared by the binding files: numpy arrays <-> Tensor
// (zero-copy where dtype and layout allow), Python containers <-> Json, and the C++ error kinds -> Python exceptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::python {

namespace py = pybind11;

// A numpy array (or anything np.asarray accepts: lists, torch CPU tensors through __array__) as a Tensor. A
// C-contiguous array of a supported dtype is borrowed without copying; the Tensor keeps the array alive. `name`
// appears in error messages.
Tensor tensor_from_python(const py::handle& value, const std::string& name);
// Every item of a mapping (str -> array-like) as named Tensors.
TensorMap tensors_from_mapping(const py::handle& mapping);
// A numpy array viewing the tensor's buffer (the array keeps the buffer alive). bfloat16 becomes float32.
py::array tensor_to_numpy(const Tensor& tensor);

// A float tensor as nested Python lists of floats (what transformers' pipelines return), built directly from the
// tensor (measured: the same speed as numpy's tolist(); one Python float per element is the cost either way).
py::list tensor_to_nested_lists(const Tensor& tensor);

Json json_from_python(const py::handle& value);
py::object json_to_python(const Json& value);

// Registers the Python exception classes (ValueError / FileNotFoundError / RuntimeError subclasses) and the
// translator that raises them with the C++ message.
void register_errors(py::module_& m);

}  // namespace ortformers::python
