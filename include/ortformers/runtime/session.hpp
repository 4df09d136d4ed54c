#pragma once
// ONNX Runtime wrapper: one environment per process, session options as a plain struct, and a Session that
// validates named inputs against the graph, casts int32<->int64 where the graph declares the other type, and
// returns named outputs as zero-copy Tensors.
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/tensor.hpp"

namespace ortformers::runtime {

// The process-wide ORT environment (created on first use, logging at warning level).
Ort::Env& ort_env();
// ORT's version string, e.g. "1.30.0".
std::string ort_version();
// Where the CLI keeps ORT-format graphs: $ORTFORMERS_CACHE/ort, else ~/.cache/ortformers/ort, else <tmp>/ortformers-ort.
std::filesystem::path default_ort_cache_dir();

enum class GraphOptimizationLevel { Disabled, Basic, Extended, All };

struct SessionOptions {
  int intra_op_num_threads = 0;  // 0 = ORT default (one per physical core)
  int inter_op_num_threads = 0;
  GraphOptimizationLevel graph_optimization_level = GraphOptimizationLevel::All;
  std::vector<std::string> execution_providers{"CPUExecutionProvider"};
  bool denormal_as_zero = true;  // session.set_denormal_as_zero
  bool enable_cpu_mem_arena = true;
  bool enable_mem_pattern = true;
  bool parallel_execution = false;
  std::optional<std::filesystem::path> optimized_model_filepath;  // where ORT saves the optimised graph
  std::map<std::string, std::string> config_entries;                // AddConfigEntry key/value pairs
  // When set: the graph optimised at graph_optimization_level is kept there in ONNX Runtime's own format, keyed by
  // the model file (path, size, mtime), the ORT version, the options and the CPU; later loads memory-map it and use
  // its weights in place (no parse, no optimisation, no copy: about 3x faster to open at MiniLM size). The first
  // load writes it (slower once). Models over 1.5 GB or with external data are not cached. A cache file that ORT
  // cannot read is deleted and rebuilt.
  std::optional<std::filesystem::path> ort_format_cache_dir;
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;                          // -1 for a dynamic dimension
  std::vector<std::string> dim_names;   // symbolic names ("batch_size"), "" for fixed ones
};

class Session {
 public:
  Session(const std::filesystem::path& model_path, const SessionOptions& options = {});
  Session(const void* model_bytes, std::size_t size, const SessionOptions& options = {});
  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;

  const std::vector<TensorInfo>& inputs() const noexcept { return inputs_; }
  const std::vector<TensorInfo>& outputs() const noexcept { return outputs_; }
  const TensorInfo* input(const std::string& name) const noexcept;
  const TensorInfo* output(const std::string& name) const noexcept;
  bool has_input(const std::string& name) const noexcept { return input(name) != nullptr; }
  bool has_output(const std::string& name) const noexcept { return output(name) != nullptr; }
  const std::string& model_path() const noexcept { return path_; }
  // True when this session was opened from the ORT-format cache (SessionOptions::ort_format_cache_dir).
  bool loaded_from_ort_cache() const noexcept { return mapping_ != nullptr; }

  // Runs the graph. Every graph input must be given (InvalidArgument naming the missing one); unknown names,
  // wrong ranks, fixed-dimension mismatches and non-convertible dtypes are InvalidArgument. int32<->int64 (and
  // float16/float32) are converted to what the graph declares. output_names empty = all outputs.
  TensorMap run(const TensorMap& inputs, const std::vector<std::string>& output_names = {}) const;
  // The same, without validation or conversion: the inputs must match the graph exactly. For benchmarks.
  TensorMap run_unchecked(const TensorMap& inputs, const std::vector<std::string>& output_names = {}) const;

  Ort::Session& raw() noexcept { return *session_; }

 private:
  void init(const SessionOptions& options);
  bool try_load_cached(const std::filesystem::path& model_path, const SessionOptions& options);
  std::shared_ptr<void> mapping_;  // an mmapped .ort file the session reads its weights from (outlives session_)
  std::unique_ptr<Ort::Session> session_;
  std::string path_;
  std::vector<TensorInfo> inputs_, outputs_;
};

Ort::SessionOptions make_ort_session_options(const SessionOptions& options);

}  // namespace ortformers::runtime
