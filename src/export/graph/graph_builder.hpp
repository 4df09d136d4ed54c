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
  std::string add_float_initializer(const std::string& key, const std::string& name, const Shape& shape,
                                    const std::function<void(float*)>& fill);
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

 private:
  std::string unique_node_name(const std::string& base);
  onnx::TensorProto* new_initializer(const std::string& key, const std::string& name, int elem_type,
                                     const Shape& shape);

  int opset_;
  onnx::GraphProto graph_;
  std::unordered_map<std::string, std::string> by_key_;
  std::set<std::string> names_;  // node names and initializer names in use
  std::unordered_map<std::string, int> name_counts_;
  bool uses_ms_domain_ = false;
  std::size_t initializer_bytes_ = 0;
  int const_counter_ = 0;
};

// Checks (onnx::checker) and runs ONNX shape inference; FileFormatError/RuntimeError naming the problem.
void check_and_infer(onnx::ModelProto& model, bool infer_shapes = true);
// Writes the model; tensors go to "<file>.data" (external data) when the initializers exceed `external_threshold`
// bytes in total (protobuf's 2 GB limit). Returns the bytes written (model file + external data).
std::uintmax_t save_model(onnx::ModelProto& model, const std::filesystem::path& file,
                          std::uintmax_t external_threshold = (std::uintmax_t{1} << 31) - (std::uintmax_t{1} << 26));

}  // namespace ortformers::exporters
