// Where a decode step's time goes (issue 21; not a test): ONNX Runtime's profiler on a causal-LM graph, batch 1,
// one new token at past length PAST (inputs and outputs bound once), the node times summed by operator type.
//   bench_profile_decoder MODEL.onnx PAST RUNS THREADS [NEW]   NEW new tokens per run (default 1; 128 = a prompt)
// Prints one JSON line: {"op_ms_per_run": {"MatMul": ..., ...}, "run_ms": ..., "nodes": ...}.
#include <onnxruntime_cxx_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: bench_profile_decoder MODEL.onnx PAST RUNS THREADS [NEW]\n";
    return 2;
  }
  const std::string path = argv[1];
  const std::int64_t past = std::stoll(argv[2]), S = argc == 6 ? std::stoll(argv[5]) : 1;
  const int runs = std::stoi(argv[3]);
  Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "profile");
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(std::stoi(argv[4]));
  so.SetInterOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  so.AddConfigEntry("session.set_denormal_as_zero", "1");
  so.EnableProfiling("bench_profile_decoder");
  Ort::Session s(env, path.c_str(), so);
  Ort::AllocatorWithDefaultOptions alloc;
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<std::vector<std::int64_t>> i64;
  std::vector<std::vector<float>> f32;
  std::vector<Ort::Value> values;
  Ort::IoBinding b(s);
  std::int64_t kv = 0, d = 0, vocab = 0;
  for (std::size_t i = 0; i < s.GetOutputCount(); ++i) {
    auto shape = s.GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
    const std::string name = s.GetOutputNameAllocated(i, alloc).get();
    if (name == "logits")
      vocab = shape.back();
    else {
      kv = shape[1];
      d = shape[3];
    }
  }
  values.reserve(s.GetInputCount() + s.GetOutputCount());
  for (std::size_t i = 0; i < s.GetInputCount(); ++i) {
    const std::string name = s.GetInputNameAllocated(i, alloc).get();
    std::vector<std::int64_t> shape;
    if (name == "input_ids" || name == "position_ids") {
      shape = {1, S};
      i64.emplace_back(S);
      for (std::int64_t k = 0; k < S; ++k) i64.back()[k] = name == "input_ids" ? 5 + k : past + k;
    } else if (name == "attention_mask") {
      shape = {1, past + S};
      i64.emplace_back(past + S, 1);
    } else {
      shape = {1, kv, past, d};
      f32.emplace_back(kv * past * d, 0.0f);
      values.push_back(Ort::Value::CreateTensor<float>(mem, f32.back().data(), f32.back().size(), shape.data(), 4));
      b.BindInput(name.c_str(), values.back());
      continue;
    }
    values.push_back(
        Ort::Value::CreateTensor<std::int64_t>(mem, i64.back().data(), i64.back().size(), shape.data(), shape.size()));
    b.BindInput(name.c_str(), values.back());
  }
  for (std::size_t i = 0; i < s.GetOutputCount(); ++i) {
    const std::string name = s.GetOutputNameAllocated(i, alloc).get();
    std::vector<std::int64_t> shape =
        name == "logits" ? std::vector<std::int64_t>{1, S, vocab} : std::vector<std::int64_t>{1, kv, past + S, d};
    std::size_t n = 1;
    for (auto x : shape) n *= static_cast<std::size_t>(x);
    f32.emplace_back(n);
    values.push_back(Ort::Value::CreateTensor<float>(mem, f32.back().data(), n, shape.data(), shape.size()));
    b.BindOutput(name.c_str(), values.back());
  }
  for (int r = 0; r < 3; ++r) s.Run(Ort::RunOptions{nullptr}, b);
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < runs; ++r) s.Run(Ort::RunOptions{nullptr}, b);
  const double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / runs;
  const std::string file = s.EndProfilingAllocated(alloc).get();
  const auto events = ortformers::Json::parse(std::ifstream(file));
  std::map<std::string, double> by_op;
  std::map<std::string, int> count;
  for (const auto& e : events) {
    if (!e.contains("cat") || e.at("cat") != "Node" || !e.contains("args") || !e.at("args").contains("op_name"))
      continue;
    const std::string n = e.at("name").get<std::string>();
    if (n.size() < 12 || n.compare(n.size() - 12, 12, "_kernel_time") != 0) continue;
    by_op[e.at("args").at("op_name").get<std::string>()] += e.at("dur").get<double>() / 1000.0;
    ++count[e.at("args").at("op_name").get<std::string>()];
  }
  if (!std::getenv("KEEP_PROFILE")) std::remove(file.c_str());
  ortformers::Json ops = ortformers::Json::object(), nodes = ortformers::Json::object();
  const int profiled = runs + 3;
  for (const auto& [op, ms] : by_op) {
    ops[op] = ms / profiled;
    nodes[op] = count[op] / profiled;
  }
  std::cout << ortformers::Json{{"model", path},    {"past", past},         {"new", S},
                                {"run_ms", run_ms}, {"op_ms_per_run", ops}, {"nodes_per_run", nodes}}
                   .dump()
            << std::endl;
  return 0;
}
