#include "ortformers/pipelines/pipeline.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "ortformers/core/error.hpp"

namespace ortformers::pipelines {

namespace {
struct Registry {
  std::mutex mu;
  std::map<std::string, PipelineFactory> factories;  // canonical task -> factory
  std::map<std::string, std::string> aliases;        // alias -> canonical task
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void register_pipeline(const std::string& task, PipelineFactory factory, std::vector<std::string> aliases) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[task] = std::move(factory);
  for (auto& a : aliases) r.aliases[a] = task;
}

std::vector<std::string> supported_tasks() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> tasks;
  for (const auto& [t, f] : r.factories) tasks.push_back(t);
  for (const auto& [a, t] : r.aliases) tasks.push_back(a);
  std::sort(tasks.begin(), tasks.end());
  return tasks;
}

std::unique_ptr<Pipeline> pipeline(const std::string& task, const std::string& model_id_or_path,
                                   const PipelineOptions& options) {
  PipelineFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::string canonical = task;
    if (auto a = r.aliases.find(task); a != r.aliases.end()) canonical = a->second;
    if (auto f = r.factories.find(canonical); f != r.factories.end()) factory = f->second;
  }
  if (!factory) {
    std::string list;
    for (const auto& t : supported_tasks()) list += (list.empty() ? "" : ", ") + t;
    throw UnsupportedError("unknown pipeline task '" + task + "'; supported tasks: " + list);
  }
  return factory(model_id_or_path, options);
}

std::vector<Json> Pipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  std::vector<Json> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs) out.push_back(call(in, kwargs));
  return out;
}

void check_kwargs(const Json& kwargs, const std::vector<std::string>& known, const std::string& task) {
  if (kwargs.is_null()) return;
  if (!kwargs.is_object()) throw InvalidArgument(task + ": keyword arguments must be a JSON object");
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw InvalidArgument(task + " pipeline: unknown argument '" + it.key() + "' (known: " + list + ")");
    }
  }
}

}  // namespace ortformers::pipelines
