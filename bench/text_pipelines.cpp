// Text task pipelines: time per input of the whole pipeline (tokenize + run + post-process, as `call` does it)
// against the model's raw session run (Session::run_unchecked) on the same, pre-computed encodings, in one run.
// At the end a table gives pipeline / raw ratios and the pre+post-processing share of the total.
//
//   bench_text_pipelines [--benchmark_filter=...]      (fixtures: ORTFORMERS_FIXTURES or ../shared/fixtures)
//   ORTFORMERS_BENCH_TEXTCLS_MODEL=DIR adds text-classification on another model folder (e.g. MiniLM-L6-shaped).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/pipelines/fill_mask.hpp"
#include "ortformers/pipelines/question_answering.hpp"
#include "ortformers/pipelines/text_classification.hpp"
#include "ortformers/pipelines/token_classification.hpp"
#include "ortformers/pipelines/zero_shot_classification.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

using namespace ortformers;
using namespace ortformers::pipelines;
namespace fs = std::filesystem;

namespace {

fs::path fixtures_dir() {
  if (const char* env = std::getenv("ORTFORMERS_FIXTURES")) return env;
  for (fs::path p :
       {fs::path("../shared/fixtures"), fs::path("../../shared/fixtures"), fs::path("/work/shared/fixtures")}) {
    if (fs::exists(p / "reference")) return p;
  }
  return "../shared/fixtures";
}

runtime::SessionOptions bench_session() {
  runtime::SessionOptions s;
  s.intra_op_num_threads = 1;  // the machine is shared; one thread keeps the comparison stable
  s.inter_op_num_threads = 1;
  return s;
}

PipelineOptions bench_options() {
  PipelineOptions o;
  o.model.session = bench_session();
  return o;
}

// One task: the pipeline inputs (as `call` takes them) and the raw graph inputs they produce.
struct Workload {
  Workload(std::string n, std::unique_ptr<Pipeline> p) : name(std::move(n)), pipe(std::move(p)) {}
  std::string name;
  std::unique_ptr<Pipeline> pipe;
  std::vector<Json> inputs;
  Json kwargs = Json::object();
  std::vector<std::vector<TensorMap>> raw;  // per input: the session runs the pipeline does
};

TensorMap to_inputs(const tokenizers::Encoding& e, const models::ORTModel& model) {
  const auto n = static_cast<std::int64_t>(e.ids.size());
  TensorMap m;
  m.emplace("input_ids", Tensor::from_vector(e.ids, {1, n}));
  if (model.session().has_input("attention_mask"))
    m.emplace("attention_mask", Tensor::from_vector(e.attention_mask, {1, n}));
  if (model.session().has_input("token_type_ids")) {
    auto t = e.type_ids;
    t.resize(e.ids.size(), 0);
    m.emplace("token_type_ids", Tensor::from_vector(std::move(t), {1, n}));
  }
  return m;
}

// Distinct single inputs of a reference section whose kwargs equal `kwargs`.
std::vector<Json> pipeline_inputs(const Json& ref, const std::string& task, const Json& kwargs, std::size_t limit) {
  std::vector<Json> out;
  for (const auto& e : ref.at("pipelines").at(task)) {
    if (e.at("kwargs") != kwargs || e.at("input").is_array()) continue;
    bool dup = false;
    for (const auto& o : out) dup = dup || o == e.at("input");
    if (!dup) out.push_back(e.at("input"));
    if (out.size() >= limit) break;
  }
  return out;
}

std::vector<Workload>& workloads() {
  static std::vector<Workload> w;
  return w;
}

void build_workloads() {
  const fs::path fx = fixtures_dir();
  auto ref = [&](const std::string& n) { return read_json_file(fx / "reference" / (n + ".json")); };
  auto dir = [&](const std::string& n) { return (fx / "onnx" / n).string(); };
  {
    Workload w{"text-classification",
               std::make_unique<TextClassificationPipeline>(dir("bert-tiny-seqcls"), bench_options())};
    auto* p = static_cast<TextClassificationPipeline*>(w.pipe.get());
    w.kwargs = {{"truncation", true}};
    w.inputs = pipeline_inputs(ref("bert-tiny-seqcls"), "text-classification", w.kwargs, 8);
    for (const auto& in : w.inputs) {
      if (!in.is_string()) continue;
      tokenizers::TokenizeOptions t;
      t.truncation = true;
      auto enc = p->tokenizer()(std::vector<std::string>{in.get<std::string>()}, t);
      w.raw.push_back({to_inputs(enc.encodings.at(0), p->model())});
    }
    std::erase_if(w.inputs, [](const Json& j) { return !j.is_string(); });
    workloads().push_back(std::move(w));
  }
  // Optional: a larger sequence-classification folder (e.g. a MiniLM-L6-shaped model made with `ortformers export`)
  // for the batch-1 overhead goal: ORTFORMERS_BENCH_TEXTCLS_MODEL=/path/to/onnx-folder.
  if (const char* extra = std::getenv("ORTFORMERS_BENCH_TEXTCLS_MODEL")) {
    Workload w{"text-classification@" + fs::path(extra).filename().string(),
               std::make_unique<TextClassificationPipeline>(extra, bench_options())};
    auto* p = static_cast<TextClassificationPipeline*>(w.pipe.get());
    w.kwargs = {{"truncation", true}};
    w.inputs = pipeline_inputs(ref("bert-tiny-seqcls"), "text-classification", w.kwargs, 8);
    std::erase_if(w.inputs, [](const Json& j) { return !j.is_string(); });
    for (const auto& in : w.inputs) {
      tokenizers::TokenizeOptions t;
      t.truncation = true;
      auto enc = p->tokenizer()(std::vector<std::string>{in.get<std::string>()}, t);
      w.raw.push_back({to_inputs(enc.encodings.at(0), p->model())});
    }
    workloads().push_back(std::move(w));
  }
  {
    Workload w{"token-classification",
               std::make_unique<TokenClassificationPipeline>(dir("bert-tiny-ner"), bench_options())};
    w.kwargs = {{"aggregation_strategy", "simple"}};
    auto* p = static_cast<TokenClassificationPipeline*>(w.pipe.get());
    w.inputs = pipeline_inputs(ref("bert-tiny-ner"), "token-classification", w.kwargs, 8);
    for (const auto& in : w.inputs) {
      tokenizers::TokenizeOptions t;
      t.truncation = true;
      auto enc = p->tokenizer()(std::vector<std::string>{in.get<std::string>()}, t);
      w.raw.push_back({to_inputs(enc.encodings.at(0), p->model())});
    }
    workloads().push_back(std::move(w));
  }
  {
    Workload w{"question-answering", std::make_unique<QuestionAnsweringPipeline>(dir("bert-tiny-qa"), bench_options())};
    auto* p = static_cast<QuestionAnsweringPipeline*>(w.pipe.get());
    w.inputs = pipeline_inputs(ref("bert-tiny-qa"), "question-answering", Json::object(), 8);
    for (const auto& in : w.inputs) {
      const auto ex = SquadExample::from_context(in.at("context").get<std::string>());
      std::vector<TensorMap> runs;
      for (const auto& f : p->features(in.at("question").get<std::string>(), ex, {})) {
        tokenizers::Encoding e;
        e.ids = f.input_ids;
        e.type_ids = f.token_type_ids;
        e.attention_mask = f.attention_mask;
        runs.push_back(to_inputs(e, p->model()));
      }
      w.raw.push_back(std::move(runs));
    }
    workloads().push_back(std::move(w));
  }
  {
    Workload w{"fill-mask", std::make_unique<FillMaskPipeline>(dir("bert-tiny-mlm"), bench_options())};
    auto* p = static_cast<FillMaskPipeline*>(w.pipe.get());
    w.inputs = pipeline_inputs(ref("bert-tiny-mlm"), "fill-mask", Json::object(), 8);
    for (const auto& in : w.inputs) {
      auto enc = p->tokenizer()(std::vector<std::string>{in.get<std::string>()});
      w.raw.push_back({to_inputs(enc.encodings.at(0), p->model())});
    }
    workloads().push_back(std::move(w));
  }
  {
    Workload w{"zero-shot-classification",
               std::make_unique<ZeroShotClassificationPipeline>(dir("bert-tiny-nli"), bench_options())};
    auto* p = static_cast<ZeroShotClassificationPipeline*>(w.pipe.get());
    const Json r = ref("bert-tiny-nli");
    const auto& first = r.at("pipelines").at("zero-shot-classification").at(0);
    w.kwargs = first.at("kwargs");
    for (const auto& e : r.at("pipelines").at("zero-shot-classification")) {
      if (e.at("kwargs") == w.kwargs) w.inputs.push_back(e.at("input"));
    }
    for (const auto& in : w.inputs) {
      std::vector<TensorMap> runs;
      for (const auto& label : w.kwargs.at("candidate_labels")) {
        const auto hyp = format_hypothesis("This example is {}.", label.get<std::string>());
        auto enc = p->tokenizer()(std::vector<std::string>{in.get<std::string>()}, std::vector<std::string>{hyp});
        runs.push_back(to_inputs(enc.encodings.at(0), p->model()));
      }
      w.raw.push_back(std::move(runs));
    }
    workloads().push_back(std::move(w));
  }
}

void BM_Pipeline(benchmark::State& state, std::size_t wi) {
  auto& w = workloads()[wi];
  for (auto _ : state) {
    for (const auto& in : w.inputs) benchmark::DoNotOptimize(w.pipe->call(in, w.kwargs));
  }
}

void BM_RawSession(benchmark::State& state, std::size_t wi) {
  auto& w = workloads()[wi];
  const auto& session = w.pipe->model().session();
  for (auto _ : state) {
    for (const auto& runs : w.raw)
      for (const auto& in : runs) benchmark::DoNotOptimize(session.run_unchecked(in));
  }
}

// Records CPU time (one intra-op thread: stable on a shared machine) per benchmark to print the ratio table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration && r.iterations > 0) times[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> times;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  build_workloads();
  for (std::size_t i = 0; i < workloads().size(); ++i) {
    const auto& name = workloads()[i].name;
    benchmark::RegisterBenchmark(("pipeline/" + name).c_str(), BM_Pipeline, i)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("raw_session/" + name).c_str(), BM_RawSession, i)->Unit(benchmark::kMicrosecond);
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nCPU time per input (one ORT thread); overhead = (pipeline - raw) / pipeline\n");
  std::printf("%-28s %8s %14s %14s %8s %10s\n", "task", "inputs", "pipeline/input", "raw/input", "ratio", "overhead");
  for (const auto& w : workloads()) {
    const auto p = reporter.times.find("pipeline/" + w.name);
    const auto r = reporter.times.find("raw_session/" + w.name);
    if (p == reporter.times.end() || r == reporter.times.end()) continue;
    const double n = static_cast<double>(w.inputs.size());
    std::printf("%-28s %8zu %11.1f us %11.1f us %8.3f %9.1f%%\n", w.name.c_str(), w.inputs.size(), p->second / n,
                r->second / n, p->second / r->second, 100.0 * (p->second - r->second) / p->second);
  }
  benchmark::Shutdown();
  return 0;
}
