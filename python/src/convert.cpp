#include "convert.hpp"

#include <cstring>
#include <memory>

#include "ortformers/core/error.hpp"

namespace ortformers::python {

namespace {

DType dtype_of_numpy(const py::dtype& dt, const std::string& name) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'f' && size == 2) return DType::Float16;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 2) return DType::Int16;
  if (kind == 'i' && size == 1) return DType::Int8;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'b') return DType::Bool;
  throw InvalidArgument("input '" + name + "': unsupported numpy dtype " + py::str(py::handle(dt)).cast<std::string>());
}

py::dtype numpy_dtype_of(DType dtype) {
  switch (dtype) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Float16: return py::dtype("float16");
    case DType::Int64: return py::dtype::of<std::int64_t>();
    case DType::Int32: return py::dtype::of<std::int32_t>();
    case DType::Int16: return py::dtype::of<std::int16_t>();
    case DType::Int8: return py::dtype::of<std::int8_t>();
    case DType::UInt8: return py::dtype::of<std::uint8_t>();
    case DType::Bool: return py::dtype::of<bool>();
    case DType::BFloat16: break;
  }
  throw UnsupportedError(std::string("no numpy dtype for ") + dtype_name(dtype));
}

}  // namespace

Tensor tensor_from_python(const py::handle& value, const std::string& name) {
  py::array arr;
  try {
    arr = py::array::ensure(value);  // np.asarray semantics, no copy for an ndarray
  } catch (const py::error_already_set&) {
  }
  if (!arr) throw InvalidArgument("input '" + name + "' is not array-like: " + py::repr(value).cast<std::string>());
  if (arr.dtype().kind() == 'O' || arr.dtype().kind() == 'U')
    throw InvalidArgument("input '" + name + "' is not numeric (numpy dtype " +
                          py::str(py::handle(arr.dtype())).cast<std::string>() + "); nested lists must be rectangular");
  if (!(arr.flags() & py::array::c_style)) arr = py::array::ensure(arr, py::array::c_style | py::array::forcecast);
  const DType dtype = dtype_of_numpy(arr.dtype(), name);
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  // The Tensor holds a reference to the array; the last Tensor copy may be dropped without the GIL held.
  auto* ref = new py::object(arr);
  std::shared_ptr<void> owner(ref, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  return Tensor::from_external(dtype, const_cast<void*>(arr.data()), std::move(shape), std::move(owner));
}

TensorMap tensors_from_mapping(const py::handle& mapping) {
  TensorMap out;
  for (auto item : py::reinterpret_borrow<py::dict>(py::dict(py::reinterpret_borrow<py::object>(mapping)))) {
    const auto key = py::str(item.first).cast<std::string>();
    if (item.second.is_none()) continue;  // transformers passes e.g. token_type_ids=None
    out.emplace(key, tensor_from_python(item.second, key));
  }
  return out;
}

py::array tensor_to_numpy(const Tensor& tensor) {
  Tensor t = tensor.dtype() == DType::BFloat16 ? tensor.to(DType::Float32) : tensor;
  const py::dtype dt = numpy_dtype_of(t.dtype());
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  auto* keep = new Tensor(t);
  py::capsule owner(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(dt, shape, {}, t.raw_data(), owner);
}

namespace {

py::list nested_lists(const float* data, const std::int64_t* dims, std::size_t rank, std::int64_t stride) {
  const std::int64_t n = dims[0];
  PyObject* list = PyList_New(n);
  if (!list) throw py::error_already_set();
  py::list out = py::reinterpret_steal<py::list>(list);
  for (std::int64_t i = 0; i < n; ++i) {
    PyObject* item;
    if (rank == 1) {
      item = PyFloat_FromDouble(static_cast<double>(data[i]));
      if (!item) throw py::error_already_set();
    } else {
      const std::int64_t inner = stride / n;
      item = nested_lists(data + i * inner, dims + 1, rank - 1, inner).release().ptr();
    }
    PyList_SET_ITEM(list, i, item);  // steals the reference
  }
  return out;
}

}  // namespace

py::list tensor_to_nested_lists(const Tensor& tensor) {
  const Tensor t = tensor.dtype() == DType::Float32 ? tensor : tensor.to(DType::Float32);
  if (t.rank() == 0) throw InvalidArgument("tensor_to_nested_lists: a scalar has no list form");
  return nested_lists(t.data<float>(), t.shape().data(), t.rank(), t.numel());
}

Json json_from_python(const py::handle& value) {
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) return value.cast<std::int64_t>();
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::dict>(value)) {
    Json obj = Json::object();
    for (auto item : py::reinterpret_borrow<py::dict>(value))
      obj[py::str(item.first).cast<std::string>()] = json_from_python(item.second);
    return obj;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    Json arr = Json::array();
    for (auto item : value) arr.push_back(json_from_python(item));
    return arr;
  }
  if (py::isinstance<py::array>(value) || py::hasattr(value, "tolist")) {  // numpy arrays and scalars
    return json_from_python(value.attr("tolist")());
  }
  if (py::hasattr(value, "__fspath__")) return py::str(value.attr("__fspath__")()).cast<std::string>();
  throw InvalidArgument("cannot pass a " + py::str(value.get_type().attr("__name__")).cast<std::string>() +
                        " to the pipeline: " + py::repr(value).cast<std::string>().substr(0, 200));
}

py::object json_to_python(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return py::none();
    case Json::value_t::boolean: return py::bool_(value.get<bool>());
    case Json::value_t::number_integer: return py::int_(value.get<std::int64_t>());
    case Json::value_t::number_unsigned: return py::int_(value.get<std::uint64_t>());
    case Json::value_t::number_float: return py::float_(value.get<double>());
    case Json::value_t::string: return py::str(value.get_ref<const std::string&>());
    case Json::value_t::array: {
      py::list out(value.size());
      for (std::size_t i = 0; i < value.size(); ++i) out[i] = json_to_python(value[i]);
      return out;
    }
    case Json::value_t::object: {
      py::dict out;
      for (auto it = value.begin(); it != value.end(); ++it) out[py::str(it.key())] = json_to_python(it.value());
      return out;
    }
    default: break;
  }
  return py::none();
}

void register_errors(py::module_& m) {
  // One Python class per C++ error kind, each a subclass of the builtin transformers raises for it.
  static py::exception<Error> invalid(m, "InvalidArgumentError", PyExc_ValueError);
  static py::exception<Error> file_format(m, "FileFormatError", PyExc_ValueError);
  static py::exception<Error> not_found(m, "NotFoundError", PyExc_FileNotFoundError);
  static py::exception<Error> unsupported(m, "UnsupportedError", PyExc_ValueError);
  static py::exception<Error> runtime(m, "OrtRuntimeError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      switch (e.kind()) {
        case ErrorKind::InvalidArgument: invalid(e.what()); return;
        case ErrorKind::FileFormat: file_format(e.what()); return;
        case ErrorKind::NotFound: not_found(e.what()); return;
        case ErrorKind::Unsupported: unsupported(e.what()); return;
        case ErrorKind::Runtime: runtime(e.what()); return;
      }
      runtime(e.what());
    } catch (const Ort::Exception& e) {
      runtime(e.what());
    }
  });
}

}  // namespace ortformers::python
