#include "ortformers/core/tensor.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <sstream>

namespace ortformers {

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::Float64:
    case DType::Int64: return 8;
    case DType::Float32:
    case DType::Int32: return 4;
    case DType::Float16:
    case DType::BFloat16:
    case DType::Int16: return 2;
    case DType::Int8:
    case DType::UInt8:
    case DType::Bool: return 1;
  }
  return 1;
}

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (DType d : {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64, DType::Int64, DType::Int32,
                  DType::Int16, DType::Int8, DType::UInt8, DType::Bool}) {
    if (name == dtype_name(d)) return d;
  }
  throw InvalidArgument("unknown dtype '" + name +
                        "' (expected float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8 or bool)");
}

ONNXTensorElementDataType to_onnx(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::Float16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::BFloat16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case DType::Float64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DType::Int64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DType::Int32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::Int16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case DType::Int8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DType::UInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DType::Bool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

DType from_onnx(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DType::Float32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DType::Float16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return DType::BFloat16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return DType::Float64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DType::Int64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DType::Int32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return DType::Int16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return DType::Int8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DType::UInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DType::Bool;
    default: break;
  }
  throw UnsupportedError("ONNX tensor element type " + std::to_string(static_cast<int>(type)) +
                         " is not supported by ortformers::Tensor");
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float value) noexcept {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  const std::uint32_t absf = f & 0x7fffffffu;
  if (absf >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (absf > 0x7f800000u ? 0x200u : 0));
  if (absf >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absf < 0x38800000u) {  // subnormal or zero in half precision: round to nearest even
    const float v = std::bit_cast<float>(absf);
    const float scaled = v * 16777216.0f;  // 2^24
    std::uint32_t m = static_cast<std::uint32_t>(std::nearbyint(scaled));
    return static_cast<std::uint16_t>(sign | m);
  }
  std::uint32_t mant = absf & 0x7fffffu;
  std::uint32_t exp = (absf >> 23) - 127 + 15;
  std::uint32_t half = (exp << 10) | (mant >> 13);
  const std::uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

float bfloat16_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw InvalidArgument("tensor shape " + shape_to_string(shape) + " has a negative dimension");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

Tensor::Tensor(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner)
    : dtype_(dtype), shape_(std::move(shape)), numel_(shape_numel(shape_)), data_(data), owner_(std::move(owner)),
      defined_(true) {}

void Tensor::check_count(std::size_t count, const Shape& shape) {
  if (static_cast<std::int64_t>(count) != shape_numel(shape)) {
    throw InvalidArgument("tensor has " + std::to_string(count) + " values but shape " + shape_to_string(shape) +
                          " needs " + std::to_string(shape_numel(shape)));
  }
}

void Tensor::check_dtype(DType requested) const {
  if (requested != dtype_) {
    throw InvalidArgument(std::string("tensor holds ") + dtype_name(dtype_) + ", not " + dtype_name(requested));
  }
}

std::int64_t Tensor::dim(std::size_t i) const {
  if (i >= shape_.size()) {
    throw InvalidArgument("dimension " + std::to_string(i) + " out of range for shape " + shape_to_string(shape_));
  }
  return shape_[i];
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  const std::int64_t n = shape_numel(shape);
  const std::size_t bytes = std::max<std::size_t>(1, static_cast<std::size_t>(n) * dtype_size(dtype));
  // 64-byte aligned zeroed storage.
  std::shared_ptr<void> buf(::operator new[](bytes, std::align_val_t{64}),
                            [](void* p) { ::operator delete[](p, std::align_val_t{64}); });
  std::memset(buf.get(), 0, bytes);
  void* data = buf.get();
  return Tensor(dtype, std::move(shape), data, std::move(buf));
}

Tensor Tensor::from_ort(Ort::Value&& value) {
  if (!value.IsTensor()) throw UnsupportedError("ONNX Runtime value is not a tensor (sequence/map outputs are unsupported)");
  auto info = value.GetTensorTypeAndShapeInfo();
  DType dtype = from_onnx(info.GetElementType());
  Shape shape = info.GetShape();
  auto holder = std::make_shared<Ort::Value>(std::move(value));
  void* data = holder->GetTensorMutableRawData();
  return Tensor(dtype, std::move(shape), data, holder);
}

Ort::Value Tensor::to_ort() const {
  if (!defined_) throw InvalidArgument("cannot pass an undefined tensor to ONNX Runtime");
  static const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  static std::uint64_t dummy = 0;
  void* p = data_ ? data_ : &dummy;
  return Ort::Value::CreateTensor(cpu, p, nbytes(), shape_.data(), shape_.size(), to_onnx(dtype_));
}

Tensor Tensor::from_external(DType dtype, void* data, Shape shape, std::shared_ptr<void> owner) {
  return Tensor(dtype, std::move(shape), data, std::move(owner));
}

Tensor Tensor::clone() const {
  Tensor t = zeros(dtype_, shape_);
  if (nbytes() && data_) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  if (shape_numel(shape) != numel_) {
    throw InvalidArgument("cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

namespace {
double load_as_double(DType dtype, const void* data, std::int64_t i) {
  switch (dtype) {
    case DType::Float32: return static_cast<const float*>(data)[i];
    case DType::Float64: return static_cast<const double*>(data)[i];
    case DType::Float16: return half_to_float(static_cast<const std::uint16_t*>(data)[i]);
    case DType::BFloat16: return bfloat16_to_float(static_cast<const std::uint16_t*>(data)[i]);
    case DType::Int64: return static_cast<double>(static_cast<const std::int64_t*>(data)[i]);
    case DType::Int32: return static_cast<const std::int32_t*>(data)[i];
    case DType::Int16: return static_cast<const std::int16_t*>(data)[i];
    case DType::Int8: return static_cast<const std::int8_t*>(data)[i];
    case DType::UInt8: return static_cast<const std::uint8_t*>(data)[i];
    case DType::Bool: return static_cast<const bool*>(data)[i] ? 1.0 : 0.0;
  }
  return 0;
}
}  // namespace

Tensor Tensor::to(DType target) const {
  if (target == dtype_) return *this;
  Tensor out = zeros(target, shape_);
  // Integer <-> integer conversions go through int64 to stay exact.
  auto is_int = [](DType d) {
    return d == DType::Int64 || d == DType::Int32 || d == DType::Int16 || d == DType::Int8 || d == DType::UInt8 ||
           d == DType::Bool;
  };
  for (std::int64_t i = 0; i < numel_; ++i) {
    if (is_int(dtype_) && is_int(target)) {
      std::int64_t v = 0;
      switch (dtype_) {
        case DType::Int64: v = static_cast<const std::int64_t*>(data_)[i]; break;
        case DType::Int32: v = static_cast<const std::int32_t*>(data_)[i]; break;
        case DType::Int16: v = static_cast<const std::int16_t*>(data_)[i]; break;
        case DType::Int8: v = static_cast<const std::int8_t*>(data_)[i]; break;
        case DType::UInt8: v = static_cast<const std::uint8_t*>(data_)[i]; break;
        case DType::Bool: v = static_cast<const bool*>(data_)[i]; break;
        default: break;
      }
      switch (target) {
        case DType::Int64: static_cast<std::int64_t*>(out.data_)[i] = v; break;
        case DType::Int32:
          if (v < INT32_MIN || v > INT32_MAX) {
            throw InvalidArgument("value " + std::to_string(v) + " at index " + std::to_string(i) +
                                  " does not fit int32");
          }
          static_cast<std::int32_t*>(out.data_)[i] = static_cast<std::int32_t>(v);
          break;
        case DType::Int16: static_cast<std::int16_t*>(out.data_)[i] = static_cast<std::int16_t>(v); break;
        case DType::Int8: static_cast<std::int8_t*>(out.data_)[i] = static_cast<std::int8_t>(v); break;
        case DType::UInt8: static_cast<std::uint8_t*>(out.data_)[i] = static_cast<std::uint8_t>(v); break;
        case DType::Bool: static_cast<bool*>(out.data_)[i] = v != 0; break;
        default: break;
      }
      continue;
    }
    const double v = load_as_double(dtype_, data_, i);
    switch (target) {
      case DType::Float32: static_cast<float*>(out.data_)[i] = static_cast<float>(v); break;
      case DType::Float64: static_cast<double*>(out.data_)[i] = v; break;
      case DType::Float16: static_cast<std::uint16_t*>(out.data_)[i] = float_to_half(static_cast<float>(v)); break;
      case DType::BFloat16: {
        std::uint32_t b = std::bit_cast<std::uint32_t>(static_cast<float>(v));
        b += 0x7fffu + ((b >> 16) & 1u);
        static_cast<std::uint16_t*>(out.data_)[i] = static_cast<std::uint16_t>(b >> 16);
        break;
      }
      case DType::Int64: static_cast<std::int64_t*>(out.data_)[i] = static_cast<std::int64_t>(v); break;
      case DType::Int32: static_cast<std::int32_t*>(out.data_)[i] = static_cast<std::int32_t>(v); break;
      case DType::Int16: static_cast<std::int16_t*>(out.data_)[i] = static_cast<std::int16_t>(v); break;
      case DType::Int8: static_cast<std::int8_t*>(out.data_)[i] = static_cast<std::int8_t>(v); break;
      case DType::UInt8: static_cast<std::uint8_t*>(out.data_)[i] = static_cast<std::uint8_t>(v); break;
      case DType::Bool: static_cast<bool*>(out.data_)[i] = v != 0; break;
    }
  }
  return out;
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> out(static_cast<std::size_t>(numel_));
  if (dtype_ == DType::Float32) {
    if (numel_) std::memcpy(out.data(), data_, nbytes());
    return out;
  }
  for (std::int64_t i = 0; i < numel_; ++i) out[static_cast<std::size_t>(i)] = static_cast<float>(load_as_double(dtype_, data_, i));
  return out;
}

}  // namespace ortformers
