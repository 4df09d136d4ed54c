#pragma once
// Tensor: a dtype, a shape and a (shared) buffer, owning or borrowing. Converts zero-copy to and from Ort::Value.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ortformers/core/error.hpp"

namespace ortformers {

enum class DType { Float32, Float16, BFloat16, Float64, Int64, Int32, Int16, Int8, UInt8, Bool };

std::size_t dtype_size(DType dtype) noexcept;
const char* dtype_name(DType dtype) noexcept;              // "float32", "int64", ...
DType dtype_from_name(const std::string& name);              // inverse of dtype_name; throws InvalidArgument
ONNXTensorElementDataType to_onnx(DType dtype);
DType from_onnx(ONNXTensorElementDataType type);             // throws UnsupportedError for string etc.

struct Float16 {
  std::uint16_t bits = 0;
};
struct BFloat16 {
  std::uint16_t bits = 0;
};
float half_to_float(std::uint16_t bits) noexcept;
std::uint16_t float_to_half(float value) noexcept;
float bfloat16_to_float(std::uint16_t bits) noexcept;

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::Float32;
  else if constexpr (std::is_same_v<T, double>) return DType::Float64;
  else if constexpr (std::is_same_v<T, Float16>) return DType::Float16;
  else if constexpr (std::is_same_v<T, BFloat16>) return DType::BFloat16;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::Int64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::Int32;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::Int16;
  else if constexpr (std::is_same_v<T, std::int8_t>) return DType::Int8;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::UInt8;
  else if constexpr (std::is_same_v<T, bool>) return DType::Bool;
  else static_assert(sizeof(T) == 0, "unsupported tensor element type");
}

using Shape = std::vector<std::int64_t>;
std::int64_t shape_numel(const Shape& shape);  // throws InvalidArgument on a negative dimension
std::string shape_to_string(const Shape& shape);  // "[2, 7, 32]"

class Tensor {
 public:
  Tensor() = default;

  // A zero-filled tensor that owns its buffer.
  static Tensor zeros(DType dtype, Shape shape);
  // Owning tensor from values (moved in). numel(shape) must equal values.size().
  template <class T>
  static Tensor from_vector(std::vector<T> values, Shape shape) {
    check_count(values.size(), shape);
    auto holder = std::make_shared<std::vector<T>>(std::move(values));
    return Tensor(dtype_of<T>(), std::move(shape), holder->data(), holder);
  }
  template <class T>
  static Tensor from_values(std::initializer_list<T> values, Shape shape) {
    return from_vector(std::vector<T>(values), std::move(shape));
  }
  // Borrowing tensor: the caller keeps `data` alive for as long as the tensor (or Ort::Value made from it) lives.
  template <class T>
  static Tensor borrow(T* data, Shape shape) {
    return Tensor(dtype_of<T>(), std::move(shape), const_cast<std::remove_const_t<T>*>(data), nullptr);
  }
  static Tensor borrow(DType dtype, void* data, Shape shape) { return Tensor(dtype, std::move(shape), data, nullptr); }
  // Tensor over external memory kept alive by `owner` (e.g. a memory-mapped file): the tensor and its copies hold
  // `owner` until the last of them is destroyed. `owner` may be null, which makes this a plain borrow.
  static Tensor from_external(DType dtype, void* data, Shape shape, std::shared_ptr<void> owner);
  // Takes ownership of an ORT tensor value without copying its buffer.
  static Tensor from_ort(Ort::Value&& value);

  // A view of this tensor's buffer as an Ort::Value (no copy). The tensor must outlive the value.
  Ort::Value to_ort() const;

  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::int64_t dim(std::size_t i) const;  // throws InvalidArgument when i >= rank
  std::int64_t numel() const noexcept { return numel_; }
  std::size_t nbytes() const noexcept { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool empty() const noexcept { return data_ == nullptr && numel_ == 0; }
  bool defined() const noexcept { return defined_; }
  bool owns_data() const noexcept { return owner_ != nullptr; }

  void* raw_data() const noexcept { return data_; }
  template <class T>
  T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <class T>
  std::span<T> span() const {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }
  template <class T>
  std::vector<T> to_vector() const {
    auto s = span<T>();
    return {s.begin(), s.end()};
  }

  Tensor clone() const;                  // deep copy, owning
  Tensor reshape(Shape shape) const;     // same buffer, new shape (numel must match)
  Tensor to(DType dtype) const;          // converts numeric types (float<->int, int32<->int64, f16->f32, ...)
  std::vector<float> to_float_vector() const;  // any numeric dtype, widened/narrowed to float

 private:
  Tensor(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);
  static void check_count(std::size_t count, const Shape& shape);
  void check_dtype(DType requested) const;

  DType dtype_ = DType::Float32;
  Shape shape_;
  std::int64_t numel_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;
  bool defined_ = false;
};

// Named tensors, as passed to and returned from a session (ordered by name for stable output).
using TensorMap = std::map<std::string, Tensor>;

}  // namespace ortformers
