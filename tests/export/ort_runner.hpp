#pragma once
// Runs an exported graph with ONNX Runtime's C++ API for the export tests.
#include <onnx/onnx_pb.h>
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

namespace ortformers::testing {

inline Ort::Env& export_test_env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_WARNING, "export-test");
  return e;
}

struct OrtRunner {
  std::string bytes;
  std::unique_ptr<Ort::Session> session;
  std::vector<std::string> inputs, outputs;

  static Ort::SessionOptions options() {
    Ort::SessionOptions opts;
    opts.SetIntraOpNumThreads(1);
    opts.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    return opts;
  }
  explicit OrtRunner(const onnx::ModelProto& model) {
    model.SerializeToString(&bytes);
    session = std::make_unique<Ort::Session>(export_test_env(), bytes.data(), bytes.size(), options());
    names();
  }
  explicit OrtRunner(const std::filesystem::path& file) {
    session = std::make_unique<Ort::Session>(export_test_env(), file.c_str(), options());
    names();
  }
  void names() {
    Ort::AllocatorWithDefaultOptions alloc;
    for (size_t i = 0; i < session->GetInputCount(); ++i)
      inputs.push_back(session->GetInputNameAllocated(i, alloc).get());
    for (size_t i = 0; i < session->GetOutputCount(); ++i)
      outputs.push_back(session->GetOutputNameAllocated(i, alloc).get());
  }

  TensorMap run(const TensorMap& feeds) {
    std::vector<Ort::Value> vals;
    std::vector<const char*> in_names, out_names;
    for (const auto& n : inputs) {
      vals.push_back(feeds.at(n).to_ort());
      in_names.push_back(n.c_str());
    }
    for (const auto& n : outputs) out_names.push_back(n.c_str());
    auto res = session->Run(Ort::RunOptions{nullptr}, in_names.data(), vals.data(), vals.size(), out_names.data(),
                            out_names.size());
    TensorMap out;
    for (size_t i = 0; i < res.size(); ++i) out[outputs[i]] = Tensor::from_ort(std::move(res[i]));
    return out;
  }

  // Feeds every graph input from `src` (name -> nested int list) with the given shape.
  TensorMap run(const Json& src, const Shape& shape) {
    TensorMap feeds;
    for (const auto& n : inputs) {
      std::vector<std::int64_t> flat;
      std::function<void(const Json&)> walk = [&](const Json& j) {
        if (j.is_array())
          for (const auto& x : j) walk(x);
        else
          flat.push_back(j.get<std::int64_t>());
      };
      if (!src.contains(n)) throw std::runtime_error("reference has no input " + n);
      walk(src.at(n));
      feeds[n] = Tensor::from_vector(std::move(flat), shape);
    }
    return run(feeds);
  }
};

inline double max_diff(const Tensor& a, const Tensor& b) {
  auto x = a.to_float_vector(), y = b.to_float_vector();
  if (x.size() != y.size() || a.shape() != b.shape()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(double(x[i]) - y[i]));
  return m;
}

}  // namespace ortformers::testing
