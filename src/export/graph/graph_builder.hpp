#pragma once
// GraphBuilder: writes an ONNX graph node by node (the approach of onnxruntime-genai's model builder).
// Initializers are deduplicated by key (a checkpoint tensor and the transform applied to it) and constants by
// content; node names are readable paths such as /encoder/layer.0/attention/self/query/MatMul.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ortformers/core/tensor.hpp"

namespace ortformers::exporters {

// One node attribute.
struct Attr {
  std::string name;
  std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>, std::vector<float>> value;
};
inline Attr attr(std::string name, std::int64_t v) {
  return {std::move(name), v};
}
inline Attr attr(std::string name, int v) {
  return {std::move(name), static_cast<std::int64_t>(v)};
}
inline Attr attr(std::string name, float v) {
  return {std::move(name), v};
}
inline Attr attr(std::string name, double v) {
  return {std::move(name), static_cast<float>(v)};
}
inline Attr attr(std::string name, std::string v) {
  return {std::move(name), std::move(v)};
}
inline Attr attr(std::string name, std::vector<std::int64_t> v) {
  return {std::move(name), std::move(v)};
}

// A dimension of a graph input/output: a symbolic name ("batch_size") or a fixed size.
using Dim = std::variant<std::string, std::int64_t>;

inline constexpr const char* kMsDomain = "com.microsoft";

// Initializer data that is produced when the model is written (streamed to the file) instead of being held in the
// ModelProto: the initializer keeps its name, type and dims with an empty raw_data until `materialize` or
// `save_model` fills it. Keeps export memory near one copy of the checkpoint.
struct DeferredTensor {
  std::size_t nbytes = 0;
  const void* direct = nullptr;     // bytes to write as they are (e.g. a memory-mapped checkpoint tensor), or
  std::function<void(char*)> fill;  // writes exactly nbytes
};
using DeferredInitializers = std::unordered_map<std::string, DeferredTensor>;

class GraphBuilder {
 public:
  explicit GraphBuilder(int opset, std::string graph_name = "main_graph");

  int opset() const noexcept { return opset_; }

  // Graph inputs / outputs (elem_type: onnx::TensorProto_DataType).
  void add_input(const std::string& name, int elem_type, const std::vector<Dim>& dims);
  void add_output(const std::string& name, int elem_type, const std::vector<Dim>& dims);

  // Initializers. `key` identifies the content (checkpoint name + transform); the same key returns the same
  // initializer. `fill` writes exactly numel * 4 bytes of float32 data into the buffer it gets.
  bool has_initializer_key(const std::string& key) const { return by_key_.count(key) != 0; }
  const std::string& initializer_for_key(const std::string& key) const { return by_key_.at(key); }
  // Initializers of at least kDeferBytes are deferred (see DeferredTensor); `fill` must stay valid until then.
  static constexpr std::size_t kDeferBytes = 4096;
  std::string add_float_initializer(const std::string& key, const std::string& name, const Shape& shape,
                                    std::function<void(float*)> fill);
  // Float32 data copied as it is from `data`, which must stay valid until the model is materialised or saved.
  std::string add_borrowed_float_initializer(const std::string& key, const std::string& name, const Shape& shape,
                                             const float* data);
  // A raw initializer of any elem_type from bytes (copied).
  std::string add_raw_initializer(const std::string& key, const std::string& name, int elem_type, const Shape& shape,
                                  const void* data, std::size_t nbytes);
  // Constants deduplicated by content.
  std::string const_i64(const std::vector<std::int64_t>& values, const Shape& shape);
  std::string const_i64(const std::vector<std::int64_t>& values) {
    return const_i64(values, {static_cast<std::int64_t>(values.size())});
  }
  std::string scalar_i64(std::int64_t v) { return const_i64({v}, {}); }
  std::string const_f32(const std::vector<float>& values, const Shape& shape);
  std::string scalar_f32(float v) { return const_f32({v}, {}); }

  // Adds a node named `<scope>/<op_type>` (made unique) and returns its outputs `<node name>_output_<i>`.
  std::vector<std::string> node_n(const std::string& scope, const std::string& op_type,
                                  const std::vector<std::string>& inputs, int num_outputs,
                                  const std::vector<Attr>& attrs = {}, const std::string& domain = "");
  std::string node(const std::string& scope, const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<Attr>& attrs = {}, const std::string& domain = "") {
    return node_n(scope, op_type, inputs, 1, attrs, domain)[0];
  }
  // Renames the output of the last node that produced `value` to `new_name` (to make it a graph output).
  void rename_value(const std::string& value, const std::string& new_name);

  // Takes the model out: sets opset imports (ai.onnx, com.microsoft when used), producer, IR version.
  onnx::ModelProto finish(const std::string& producer_version);

  std::size_t initializer_bytes() const noexcept { return initializer_bytes_; }
  // The deferred initializers (call after finish()).
  DeferredInitializers take_deferred() { return std::move(deferred_); }

 private:
  std::string unique_node_name(const std::string& base);
  // A float32 initializer whose bytes come from `data` (direct or fill): deferred when large, else copied now.
  std::string add_float_data(const std::string& key, const std::string& name, const Shape& shape, DeferredTensor data);
  onnx::TensorProto* new_initializer(const std::string& key, const std::string& name, int elem_type,
                                     const Shape& shape);

  int opset_;
  onnx::GraphProto graph_;
  std::unordered_map<std::string, std::string> by_key_;
  std::set<std::string> names_;  // node names and initializer names in use
  std::unordered_map<std::string, int> name_counts_;
  bool uses_ms_domain_ = false;
  std::size_t initializer_bytes_ = 0;
  DeferredInitializers deferred_;
  int const_counter_ = 0;
};

// Checks (onnx::checker) and runs ONNX shape inference; FileFormatError/RuntimeError naming the problem.
void check_and_infer(onnx::ModelProto& model, bool infer_shapes = true);
// Fills the raw_data of every deferred initializer (the model is then self-contained) and empties `deferred`.
void materialize(onnx::ModelProto& model, DeferredInitializers& deferred);
// Writes the model, streaming deferred initializers straight to the file; tensors go to "<file>.data" (external
// data) when the initializers exceed `external_threshold` bytes in total (protobuf's 2 GB limit). Returns the bytes
// written (model file + external data).
std::uintmax_t save_model(onnx::ModelProto& model, const DeferredInitializers& deferred,
                          const std::filesystem::path& file,
                          std::uintmax_t external_threshold = (std::uintmax_t{1} << 31) - (std::uintmax_t{1} << 26));
inline std::uintmax_t save_model(onnx::ModelProto& model, const std::filesystem::path& file,
                                 std::uintmax_t external_threshold = (std::uintmax_t{1} << 31) -
                                                                     (std::uintmax_t{1} << 26)) {
  return save_model(model, DeferredInitializers{}, file, external_threshold);
}

}  // namespace ortformers::exporters
