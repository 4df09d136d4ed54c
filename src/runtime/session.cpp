#include "ortformers/runtime/session.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "ortformers/core/error.hpp"

namespace ortformers::runtime {

Ort::Env& ort_env() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "ortformers");  // ORT warnings are noise for users; errors are ours
  return env;
}

std::string ort_version() { return Ort::GetVersionString(); }

std::filesystem::path default_ort_cache_dir() {
  if (const char* c = std::getenv("ORTFORMERS_CACHE"); c && *c) return std::filesystem::path(c) / "ort";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "ortformers" / "ort";
  return std::filesystem::temp_directory_path() / "ortformers-ort";
}

Ort::SessionOptions make_ort_session_options(const SessionOptions& o) {
  Ort::SessionOptions so;
  if (o.intra_op_num_threads < 0 || o.inter_op_num_threads < 0) {
    throw InvalidArgument("session options: thread counts must be >= 0 (intra_op_num_threads=" +
                          std::to_string(o.intra_op_num_threads) +
                          ", inter_op_num_threads=" + std::to_string(o.inter_op_num_threads) + ")");
  }
  so.SetIntraOpNumThreads(o.intra_op_num_threads);
  so.SetInterOpNumThreads(o.inter_op_num_threads);
  switch (o.graph_optimization_level) {
    case GraphOptimizationLevel::Disabled: so.SetGraphOptimizationLevel(ORT_DISABLE_ALL); break;
    case GraphOptimizationLevel::Basic: so.SetGraphOptimizationLevel(ORT_ENABLE_BASIC); break;
    case GraphOptimizationLevel::Extended: so.SetGraphOptimizationLevel(ORT_ENABLE_EXTENDED); break;
    case GraphOptimizationLevel::All: so.SetGraphOptimizationLevel(ORT_ENABLE_ALL); break;
  }
  if (!o.enable_cpu_mem_arena) so.DisableCpuMemArena();
  if (!o.enable_mem_pattern) so.DisableMemPattern();
  so.SetExecutionMode(o.parallel_execution ? ORT_PARALLEL : ORT_SEQUENTIAL);
  if (o.denormal_as_zero) so.AddConfigEntry("session.set_denormal_as_zero", "1");
  if (o.optimized_model_filepath) so.SetOptimizedModelFilePath(o.optimized_model_filepath->c_str());
  for (const auto& [k, v] : o.config_entries) so.AddConfigEntry(k.c_str(), v.c_str());
  for (const auto& ep : o.execution_providers) {
    if (ep == "CPUExecutionProvider") continue;  // always present
    // Other providers need a build of ORT that has them; the npm build is CPU-only.
    std::vector<std::string> available = Ort::GetAvailableProviders();
    if (std::find(available.begin(), available.end(), ep) == available.end()) {
      std::string list;
      for (const auto& a : available) list += (list.empty() ? "" : ", ") + a;
      throw UnsupportedError("execution provider '" + ep + "' is not available in this ONNX Runtime build (" +
                             ort_version() + "); available: " + list);
    }
    so.AppendExecutionProvider(ep, {});
  }
  return so;
}

namespace {

TensorInfo make_info(const std::string& name, const Ort::TypeInfo& type_info) {
  TensorInfo info;
  info.name = name;
  if (type_info.GetONNXType() != ONNX_TYPE_TENSOR) {
    throw UnsupportedError("graph value '" + name + "' is not a tensor (sequences and maps are not supported)");
  }
  auto t = type_info.GetTensorTypeAndShapeInfo();
  info.dtype = from_onnx(t.GetElementType());
  info.shape = t.GetShape();
  for (const char* s : t.GetSymbolicDimensions()) info.dim_names.emplace_back(s ? s : "");
  info.dim_names.resize(info.shape.size());
  return info;
}

std::string names_of(const std::vector<TensorInfo>& infos) {
  std::string s;
  for (const auto& i : infos) s += (s.empty() ? "" : ", ") + i.name;
  return s;
}

}  // namespace

namespace {

namespace fs = std::filesystem;

std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 || line.rfind("flags", 0) == 0) return line;
  return "unknown-cpu";
}

// The cache file for a model under the given options, or empty when the model is not cacheable.
fs::path ort_cache_file(const fs::path& model_path, const SessionOptions& o) {
  if (!o.ort_format_cache_dir || o.graph_optimization_level == GraphOptimizationLevel::Disabled) return {};
  for (const auto& ep : o.execution_providers)
    if (ep != "CPUExecutionProvider") return {};
  std::error_code ec;
  const auto size = fs::file_size(model_path, ec);
  if (ec || size > (3ull << 29)) return {};  // > 1.5 GB: beyond what the ORT format holds comfortably
  fs::path data = model_path;
  data += "_data";
  fs::path data2 = model_path;
  data2 += ".data";
  if (fs::exists(data) || fs::exists(data2)) return {};  // external data: not cached
  const auto mtime = fs::last_write_time(model_path, ec).time_since_epoch().count();
  std::string key = fs::absolute(model_path).lexically_normal().string() + "|" + std::to_string(size) + "|" +
                    std::to_string(mtime) + "|" + Ort::GetVersionString() + "|" +
                    std::to_string(static_cast<int>(o.graph_optimization_level)) + "|" + cpu_model();
  for (const auto& [k, v] : o.config_entries) key += "|" + k + "=" + v;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return *o.ort_format_cache_dir / (model_path.stem().string() + "-" + hex + ".ort");
}

}  // namespace

bool Session::try_load_cached(const fs::path& file, const SessionOptions& options) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    return false;
  }
  void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return false;
  const auto size = static_cast<std::size_t>(st.st_size);
  std::shared_ptr<void> mapping(p, [size](void* q) { ::munmap(q, size); });
  SessionOptions o = options;
  o.graph_optimization_level = GraphOptimizationLevel::Disabled;  // already optimised
  o.optimized_model_filepath.reset();
  auto so = make_ort_session_options(o);
  so.AddConfigEntry("session.load_model_format", "ORT");
  so.AddConfigEntry("session.use_ort_model_bytes_directly", "1");
  so.AddConfigEntry("session.use_ort_model_bytes_for_initializers", "1");
  try {
    session_ = std::make_unique<Ort::Session>(ort_env(), p, size, so);
  } catch (const Ort::Exception&) {
    std::error_code ec;
    fs::remove(file, ec);  // unreadable (truncated, other ORT build): rebuilt by the caller
    return false;
  }
  mapping_ = std::move(mapping);
  return true;
}

Session::Session(const std::filesystem::path& model_path, const SessionOptions& options) : path_(model_path.string()) {
  if (!std::filesystem::exists(model_path)) throw NotFoundError("ONNX model not found: " + model_path.string());
  const fs::path cache_file = ort_cache_file(model_path, options);
  if (!cache_file.empty() && try_load_cached(cache_file, options)) {
    init(options);
    return;
  }
  SessionOptions o = options;
  fs::path tmp;
  if (!cache_file.empty() && !o.optimized_model_filepath) {
    std::error_code ec;
    fs::create_directories(cache_file.parent_path(), ec);
    if (!ec) {
      tmp = cache_file;
      tmp += ".tmp-" + std::to_string(::getpid());
      o.optimized_model_filepath = tmp;
      o.config_entries["session.save_model_format"] = "ORT";
    }
  }
  auto so = make_ort_session_options(o);
  try {
    session_ = std::make_unique<Ort::Session>(ort_env(), model_path.c_str(), so);
  } catch (const Ort::Exception& e) {
    if (!tmp.empty()) {
      std::error_code ec;
      fs::remove(tmp, ec);
    }
    throw FileFormatError("ONNX Runtime cannot load " + model_path.string() + ": " + e.what());
  }
  if (!tmp.empty()) {
    std::error_code ec;
    if (fs::exists(tmp, ec)) fs::rename(tmp, cache_file, ec);  // atomic: readers never see a partial file
    if (ec) fs::remove(tmp, ec);
  }
  init(options);
}

Session::Session(const void* bytes, std::size_t size, const SessionOptions& options) : path_("<memory>") {
  auto so = make_ort_session_options(options);
  try {
    session_ = std::make_unique<Ort::Session>(ort_env(), bytes, size, so);
  } catch (const Ort::Exception& e) {
    throw FileFormatError(std::string("ONNX Runtime cannot load the in-memory model: ") + e.what());
  }
  init(options);
}

void Session::init(const SessionOptions&) {
  Ort::AllocatorWithDefaultOptions alloc;
  for (std::size_t i = 0; i < session_->GetInputCount(); ++i) {
    auto name = session_->GetInputNameAllocated(i, alloc);
    inputs_.push_back(make_info(name.get(), session_->GetInputTypeInfo(i)));
  }
  for (std::size_t i = 0; i < session_->GetOutputCount(); ++i) {
    auto name = session_->GetOutputNameAllocated(i, alloc);
    outputs_.push_back(make_info(name.get(), session_->GetOutputTypeInfo(i)));
  }
}

const TensorInfo* Session::input(const std::string& name) const noexcept {
  for (const auto& i : inputs_)
    if (i.name == name) return &i;
  return nullptr;
}

const TensorInfo* Session::output(const std::string& name) const noexcept {
  for (const auto& o : outputs_)
    if (o.name == name) return &o;
  return nullptr;
}

namespace {
bool convertible(DType from, DType to) {
  auto is_int = [](DType d) { return d == DType::Int64 || d == DType::Int32; };
  auto is_float = [](DType d) { return d == DType::Float32 || d == DType::Float16 || d == DType::Float64; };
  return (is_int(from) && is_int(to)) || (is_float(from) && is_float(to));
}
}  // namespace

TensorMap Session::run(const TensorMap& inputs, const std::vector<std::string>& output_names) const {
  for (const auto& [name, t] : inputs) {
    if (!input(name)) {
      throw InvalidArgument("input '" + name + "' is not an input of " + path_ + " (graph inputs: " +
                            names_of(inputs_) + ")");
    }
  }
  TensorMap prepared;
  for (const auto& info : inputs_) {
    auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      throw InvalidArgument("missing required input '" + info.name + "' for " + path_ + " (graph inputs: " +
                            names_of(inputs_) + ")");
    }
    const Tensor& t = it->second;
    if (!t.defined()) throw InvalidArgument("input '" + info.name + "' is an undefined tensor");
    if (t.rank() != info.shape.size()) {
      throw InvalidArgument("input '" + info.name + "' has rank " + std::to_string(t.rank()) + " (shape " +
                            shape_to_string(t.shape()) + ") but the graph expects rank " +
                            std::to_string(info.shape.size()) + " " + shape_to_string(info.shape));
    }
    for (std::size_t d = 0; d < info.shape.size(); ++d) {
      if (info.shape[d] >= 0 && info.shape[d] != t.shape()[d]) {
        throw InvalidArgument("input '" + info.name + "' has shape " + shape_to_string(t.shape()) +
                              " but the graph fixes dimension " + std::to_string(d) + " to " +
                              std::to_string(info.shape[d]));
      }
    }
    if (t.dtype() == info.dtype) {
      prepared.emplace(info.name, t);
    } else if (convertible(t.dtype(), info.dtype)) {
      prepared.emplace(info.name, t.to(info.dtype));
    } else {
      throw InvalidArgument("input '" + info.name + "' has dtype " + dtype_name(t.dtype()) + " but the graph expects " +
                            dtype_name(info.dtype));
    }
  }
  for (const auto& n : output_names) {
    if (!output(n)) {
      throw InvalidArgument("'" + n + "' is not an output of " + path_ + " (graph outputs: " + names_of(outputs_) +
                            ")");
    }
  }
  return run_unchecked(prepared, output_names);
}

TensorMap Session::run_unchecked(const TensorMap& inputs, const std::vector<std::string>& output_names) const {
  std::vector<const char*> in_names;
  std::vector<Ort::Value> in_values;
  in_names.reserve(inputs.size());
  in_values.reserve(inputs.size());
  for (const auto& [name, t] : inputs) {
    in_names.push_back(name.c_str());
    in_values.push_back(t.to_ort());
  }
  std::vector<const char*> out_names;
  if (output_names.empty()) {
    for (const auto& o : outputs_) out_names.push_back(o.name.c_str());
  } else {
    for (const auto& n : output_names) out_names.push_back(n.c_str());
  }
  std::vector<Ort::Value> out_values;
  try {
    out_values = session_->Run(Ort::RunOptions{nullptr}, in_names.data(), in_values.data(), in_values.size(),
                               out_names.data(), out_names.size());
  } catch (const Ort::Exception& e) {
    throw RuntimeError("ONNX Runtime failed running " + path_ + ": " + e.what());
  }
  TensorMap out;
  for (std::size_t i = 0; i < out_values.size(); ++i) out.emplace(out_names[i], Tensor::from_ort(std::move(out_values[i])));
  return out;
}

}  // namespace ortformers::runtime
