// Native exporter benchmarks (issue 4), one run, ratios printed at the end:
//  - a MiniLM-L6-shaped random checkpoint (6 layers, hidden 384, 12 heads, intermediate 1536, vocab 30522) written
//    as model.safetensors + config.json + vocab.txt + sentence-transformers files into a temp folder;
//  - export time inside the call (export_model) and for the whole process (`ortformers export`, with its peak RSS
//    from wait4), against the checkpoint size;
//  - inference throughput of the plain, --optimize and --quantize int8 graphs at batch 1 x 16 and 32 x 128 under the
//    same session options (ORT_ENABLE_ALL, 2 intra-op threads), and the int8 sentence-embedding cosine to fp32;
//  - our plain export of every text fixture vs optimum's export of it (../shared/fixtures/onnx/<name>/model.onnx);
//  - a DeBERTa-v3-small-shaped random checkpoint: whole-process export time and plain / --optimize / int8 throughput
//    at 1 x 64 and 32 x 128 (ORTFORMERS_BENCH_DEBERTA=0 skips it).
// Environment: ORTFORMERS_FIXTURES (fixtures folder), ORTFORMERS_CLI (path of the ortformers binary; default: next
// to this program).
#include <benchmark/benchmark.h>
#include <onnxruntime_cxx_api.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/export/quantize.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "support/deberta_checkpoint.hpp"
#include "support/minilm_checkpoint.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace ortformers;

namespace {

std::map<std::string, double> g_seconds;  // benchmark name -> real seconds per iteration
std::map<std::string, double> g_extra;    // other numbers for the summary
std::map<std::string, double> g_cpu;      // benchmark name -> process CPU seconds per iteration
std::map<std::string, double> g_min;      // interleaved comparisons: fastest round, wall seconds per run

fs::path exe_dir() {
  return fs::canonical("/proc/self/exe").parent_path();
}

fs::path temp_root() {
  static fs::path root = [] {
    if (const char* keep = std::getenv("ORTFORMERS_BENCH_EXPORT_DIR"); keep && *keep) {
      fs::create_directories(keep);
      return fs::path(keep);
    }
    auto p = fs::temp_directory_path() / ("ortformers-bench-export-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return root;
}

std::optional<fs::path> fixtures_dir() {
  if (const char* e = std::getenv("ORTFORMERS_FIXTURES"); e && *e) return fs::path(e);
  for (fs::path p = exe_dir(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::is_directory(p / "shared" / "fixtures")) return p / "shared" / "fixtures";
  return std::nullopt;
}

// MiniLM-L6-shaped BERT checkpoint with random weights, as a sentence-transformers folder (mean pooling + Normalize).
fs::path make_minilm_checkpoint() {
  const auto dir = ortformers::bench::write_minilm_checkpoint(temp_root() / "minilm-l6-random");
  g_extra["checkpoint_MiB"] = static_cast<double>(fs::file_size(dir / "model.safetensors")) / (1 << 20);
  return dir;
}

// Runs `ortformers export` as a child process; returns {seconds, peak RSS bytes (0 when unknown)}. The peak RSS
// comes from GNU time when /usr/bin/time exists: a child spawned straight from this (large) process would report
// this process's RSS as its own maximum (Linux keeps the pre-exec high-water mark).
std::pair<double, double> run_cli_export(const fs::path& cli, const fs::path& model, const fs::path& out) {
  const bool have_time = fs::exists("/usr/bin/time");
  const auto rss_file = temp_root() / "rss.txt";
  std::vector<std::string> args;
  if (have_time) args = {"/usr/bin/time", "-f", "%M", "-o", rss_file.string()};
  for (const auto& a : {cli.string(), std::string("export"), std::string("--model"), model.string(),
                        std::string("--quiet"), out.string()})
    args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error(std::string("cannot start ") + argv[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("ortformers export failed");
  const double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
  g_extra["cli_cpu_s"] = std::min(g_extra.count("cli_cpu_s") ? g_extra["cli_cpu_s"] : 1e9, cpu);
  double rss = 0;
  if (have_time) {
    std::ifstream in(rss_file);
    double kib = 0;
    if (in >> kib) rss = kib * 1024.0;
  }
  return {s, rss};
}

// One process-wide intra-op pool of 2 threads shared by every session: with a pool per session, the threads of the
// session that ran last keep spinning while the next one runs, and on a 2-core machine that takes CPU from the
// graph being timed. ORTFORMERS_BENCH_PER_SESSION_POOLS=1 restores per-session pools (for comparison).
bool per_session_pools() {
  const char* v = std::getenv("ORTFORMERS_BENCH_PER_SESSION_POOLS");
  return v != nullptr && std::string(v) == "1";
}

Ort::Env& env() {
  static Ort::Env e = [] {
    if (per_session_pools()) return Ort::Env(ORT_LOGGING_LEVEL_WARNING, "bench-export");
    Ort::ThreadingOptions t;
    t.SetGlobalIntraOpNumThreads(2);
    t.SetGlobalInterOpNumThreads(1);
    return Ort::Env(t, ORT_LOGGING_LEVEL_WARNING, "bench-export");
  }();
  return e;
}

std::unique_ptr<Ort::Session> make_session(const fs::path& model) {
  Ort::SessionOptions o;
  if (per_session_pools()) {
    o.SetIntraOpNumThreads(2);
    o.SetInterOpNumThreads(1);
  } else {
    o.DisablePerSessionThreads();
  }
  o.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  o.AddConfigEntry("session.set_denormal_as_zero", "1");
  return std::make_unique<Ort::Session>(env(), model.c_str(), o);
}

struct Feeds {
  std::vector<std::string> in_names, out_names;
  std::vector<Tensor> tensors;
};

Feeds make_feeds(Ort::Session& s, std::int64_t batch, std::int64_t seq, unsigned seed) {
  Feeds f;
  Ort::AllocatorWithDefaultOptions alloc;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> tok(1000, 29000);
  for (size_t i = 0; i < s.GetInputCount(); ++i) {
    std::string n = s.GetInputNameAllocated(i, alloc).get();
    std::vector<std::int64_t> v(static_cast<std::size_t>(batch * seq));
    if (n == "input_ids") {
      for (auto& x : v) x = tok(rng);
      for (std::int64_t b = 0; b < batch; ++b) v[b * seq] = 101, v[b * seq + seq - 1] = 102;
    } else if (n == "attention_mask") {
      std::fill(v.begin(), v.end(), 1);
    }
    f.in_names.push_back(n);
    f.tensors.push_back(Tensor::from_vector(std::move(v), {batch, seq}));
  }
  for (size_t i = 0; i < s.GetOutputCount(); ++i) f.out_names.push_back(s.GetOutputNameAllocated(i, alloc).get());
  return f;
}

std::vector<Ort::Value> run(Ort::Session& s, const Feeds& f) {
  std::vector<Ort::Value> vals;
  std::vector<const char*> in, out;
  for (size_t i = 0; i < f.in_names.size(); ++i) {
    vals.push_back(f.tensors[i].to_ort());
    in.push_back(f.in_names[i].c_str());
  }
  for (const auto& n : f.out_names) out.push_back(n.c_str());
  return s.Run(Ort::RunOptions{nullptr}, in.data(), vals.data(), vals.size(), out.data(), out.size());
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Interleaved comparison of the graphs of one group at one shape, so that load changes on a shared machine hit
// every graph alike: all sessions are created and warmed up first, then `rounds` rounds each time every graph (in
// a rotating order) for at least `sample_s` seconds. Per graph: the median over rounds of the per-run wall time
// and process CPU time (all threads), stored in g_seconds / g_cpu under "<prefix>/<graph>/<b>x<s>".
void compare_interleaved(const std::string& prefix, const std::vector<std::pair<std::string, fs::path>>& graphs,
                         std::int64_t batch, std::int64_t seq, int rounds, double sample_s) {
  struct Entry {
    std::string name;
    std::unique_ptr<Ort::Session> session;
    Feeds feeds;
    int runs_per_sample = 1;
    std::vector<double> wall, cpu;
  };
  std::vector<Entry> es;
  const std::string shape = std::to_string(batch) + "x" + std::to_string(seq);
  for (const auto& [name, path] : graphs) {
    Entry e;
    e.name = prefix + "/" + name + "/" + shape;
    e.session = make_session(path);
    e.feeds = make_feeds(*e.session, batch, seq, 7);
    run(*e.session, e.feeds);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    run(*e.session, e.feeds);
    const double one = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.runs_per_sample = std::max(1, static_cast<int>(sample_s / std::max(one, 1e-6)));
    es.push_back(std::move(e));
  }
  for (int r = 0; r < rounds; ++r)
    for (std::size_t k = 0; k < es.size(); ++k) {
      auto& e = es[(k + static_cast<std::size_t>(r)) % es.size()];
      const double c0 = cpu_now();
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < e.runs_per_sample; ++i) benchmark::DoNotOptimize(run(*e.session, e.feeds));
      e.wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                       e.runs_per_sample);
      e.cpu.push_back((cpu_now() - c0) / e.runs_per_sample);
    }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  for (auto& e : es) {
    g_seconds[e.name] = median(e.wall);
    g_cpu[e.name] = median(e.cpu);
    g_min[e.name] = *std::min_element(e.wall.begin(), e.wall.end());
    std::printf("%-48s %10.3f ms wall (min %.3f) %10.3f ms cpu  (median of %d rounds x %d runs)\n", e.name.c_str(),
                g_seconds[e.name] * 1e3, g_min[e.name] * 1e3, g_cpu[e.name] * 1e3, rounds, e.runs_per_sample);
  }
}

class Capture : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && r.iterations > 0)
        g_seconds[r.run_name.function_name] = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit),
        g_cpu[r.run_name.function_name] = r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
    ConsoleReporter::ReportRuns(runs);
  }
};

double cosine_min(const float* a, const float* b, std::int64_t rows, std::int64_t dim) {
  double worst = 1.0;
  for (std::int64_t r = 0; r < rows; ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (std::int64_t d = 0; d < dim; ++d) {
      ab += double(a[r * dim + d]) * b[r * dim + d];
      aa += double(a[r * dim + d]) * a[r * dim + d];
      bb += double(b[r * dim + d]) * b[r * dim + d];
    }
    worst = std::min(worst, ab / std::sqrt(aa * bb));
  }
  return worst;
}

// Speed ratio num vs den: median wall time, median process CPU time (all threads), and fastest round (the least
// disturbed by other load on a shared machine).
void ratio(const char* label, const std::string& num, const std::string& den) {
  if (!g_seconds.count(num) || !g_seconds.count(den)) return;
  std::printf("  %-58s %6.2fx wall  %6.2fx cpu", label, g_seconds.at(den) / g_seconds.at(num),
              g_cpu.at(den) / g_cpu.at(num));
  if (g_min.count(num) && g_min.count(den)) std::printf("  %6.2fx best", g_min.at(den) / g_min.at(num));
  std::printf("\n");
}

// DeBERTa-v3-small shape (issue 14): export time of the whole process and the three graphs' throughput, as ratios.
// The attention stays plain ONNX ops in every form (docs/export.md), so --optimize only fuses the GELUs.
void bench_deberta(const fs::path& cli, int rounds) {
  if (const char* v = std::getenv("ORTFORMERS_BENCH_DEBERTA"); v && std::string(v) == "0") return;
  const auto ckpt = ortformers::bench::write_deberta_v3_small_checkpoint(temp_root() / "deberta-v3-small-random");
  const double mib = static_cast<double>(fs::file_size(ckpt / "model.safetensors")) / (1 << 20);
  std::vector<double> cli_s;
  if (fs::exists(cli))
    for (int i = 0; i < 3; ++i)
      cli_s.push_back(run_cli_export(cli, ckpt, temp_root() / ("deberta-cli-" + std::to_string(i))).first);
  std::sort(cli_s.begin(), cli_s.end());
  exporters::ExportOptions plain, opt, q8;
  opt.optimize = true;
  q8.quantize = "int8";
  const std::vector<std::pair<std::string, fs::path>> graphs = {
      {"plain", exporters::export_model(ckpt, temp_root() / "deberta-plain", plain).onnx_path},
      {"optimized", exporters::export_model(ckpt, temp_root() / "deberta-opt", opt).onnx_path},
      {"int8", exporters::export_model(ckpt, temp_root() / "deberta-int8", q8).onnx_path}};
  std::printf("\nDeBERTa-v3-small shape (random, %.0f MiB safetensors), interleaved:\n", mib);
  for (auto [b, sq] : {std::pair<std::int64_t, std::int64_t>{1, 64}, {32, 128}})
    compare_interleaved("infer/deberta-v3-small", graphs, b, sq, b == 1 ? rounds : std::max(3, rounds / 3),
                        b == 1 ? 0.05 : 0.3);
  std::printf("\nSummary, DeBERTa-v3-small shape (ratios from this run; > 1 means the first is faster)\n");
  if (!cli_s.empty())
    std::printf("  whole process `ortformers export`: %.3f s wall (median of 3) for %.0f MiB of weights\n",
                cli_s[cli_s.size() / 2], mib);
  auto k = [](const char* g, const char* shape) { return std::string("infer/deberta-v3-small/") + g + "/" + shape; };
  ratio("deberta optimized vs plain, 1x64", k("optimized", "1x64"), k("plain", "1x64"));
  ratio("deberta optimized vs plain, 32x128", k("optimized", "32x128"), k("plain", "32x128"));
  ratio("deberta int8 vs plain, 1x64", k("int8", "1x64"), k("plain", "1x64"));
  ratio("deberta int8 vs plain, 32x128", k("int8", "32x128"), k("plain", "32x128"));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const auto ckpt = make_minilm_checkpoint();
  fs::path cli = exe_dir() / "ortformers";
  if (const char* c = std::getenv("ORTFORMERS_CLI"); c && *c) cli = c;

  // Export inside the call.
  benchmark::RegisterBenchmark("export/minilm-l6/in_process",
                               [ckpt](benchmark::State& st) {
                                 int i = 0;
                                 for (auto _ : st)
                                   exporters::export_model(ckpt, temp_root() / ("inproc-" + std::to_string(i++)), {});
                               })
      ->Iterations(5)
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
  // Whole process.
  if (fs::exists(cli)) {
    benchmark::RegisterBenchmark(
        "export/minilm-l6/cli_process",
        [ckpt, cli](benchmark::State& st) {
          int i = 0;
          double peak = 0;
          for (auto _ : st)
            peak = std::max(peak, run_cli_export(cli, ckpt, temp_root() / ("cli-" + std::to_string(i++))).second);
          st.counters["peak_rss_MiB"] = peak / (1 << 20);
          g_extra["cli_peak_rss_MiB"] = peak / (1 << 20);
        })
        ->Iterations(5)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  } else {
    std::fprintf(stderr, "note: %s not found (set ORTFORMERS_CLI); skipping the whole-process export\n", cli.c_str());
  }

  // Graphs for the inference comparison.
  std::map<std::string, fs::path> graphs;
  {
    exporters::ExportOptions plain, opt, q8;
    opt.optimize = true;
    q8.quantize = "int8";
    graphs["plain"] = exporters::export_model(ckpt, temp_root() / "g-plain", plain).onnx_path;
    graphs["optimized"] = exporters::export_model(ckpt, temp_root() / "g-opt", opt).onnx_path;
    try {
      graphs["int8"] = exporters::export_model(ckpt, temp_root() / "g-int8", q8).onnx_path;
      // The other int8 schemes (export/quantize.hpp): accuracy and speed of each on this CPU.
      for (const char* preset : {"avx2", "avx512_vnni"}) {
        exporters::ExportOptions o;
        o.quantize = preset;
        graphs[std::string("int8-") + preset] =
            exporters::export_model(ckpt, temp_root() / (std::string("g-int8-") + preset), o).onnx_path;
      }
      // For comparison: the plain graph quantised as it is (decomposed attention; its Q/K/V MatMuls merged into one
      // DynamicQuantizeMatMul). The exporter's --quantize builds on the fused graph instead (QAttention).
      const auto unfused = temp_root() / "g-int8-unfused";
      fs::create_directories(unfused);
      exporters::quantize_dynamic_int8_file(graphs["plain"], unfused / "model.onnx");
      graphs["int8-unfused"] = unfused / "model.onnx";
    } catch (const std::exception& e) {
      std::fprintf(stderr, "note: int8 export unavailable: %s\n", e.what());
    }
  }
  // Our plain export of the fixtures vs optimum's export.
  std::vector<std::string> fixture_names;
  struct FixtureGraphs {
    fs::path optimum, ours, ours_optimized;
  };
  std::map<std::string, FixtureGraphs> fixture_graphs;
  if (auto fx = fixtures_dir()) {
    for (const char* n : {"bert-tiny", "bert-tiny-seqcls", "distilbert-tiny", "roberta-tiny", "albert-tiny",
                          "electra-tiny-ner", "minilm-tiny-st"}) {
      const auto theirs = *fx / "onnx" / n / "model.onnx";
      if (!fs::exists(theirs)) continue;
      const auto ours =
          exporters::export_model(*fx / "models" / n, temp_root() / ("fx-" + std::string(n)), {}).onnx_path;
      exporters::ExportOptions o;
      o.optimize = true;
      const auto ours_opt =
          exporters::export_model(*fx / "models" / n, temp_root() / ("fx-opt-" + std::string(n)), o).onnx_path;
      fixture_names.push_back(n);
      fixture_graphs[n] = {theirs, ours, ours_opt};
    }
  } else {
    std::fprintf(stderr, "note: fixtures not found (set ORTFORMERS_FIXTURES); skipping the fixture comparison\n");
  }

  Capture reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  // Inference comparisons, interleaved (see compare_interleaved); ORTFORMERS_BENCH_ROUNDS overrides the rounds.
  int rounds = 15;
  if (const char* r = std::getenv("ORTFORMERS_BENCH_ROUNDS"); r && std::atoi(r) > 0) rounds = std::atoi(r);
  std::vector<std::pair<std::string, fs::path>> minilm(graphs.begin(), graphs.end());
  std::printf("\nInference (ORT_ENABLE_ALL, 2 intra-op threads), interleaved:\n");
  for (auto [b, sq] : {std::pair<std::int64_t, std::int64_t>{1, 16}, {32, 128}})
    compare_interleaved("infer/minilm-l6", minilm, b, sq, rounds, b == 1 ? 0.05 : 0.3);
  for (const auto& [n, g] : fixture_graphs)
    for (auto [b, sq] : {std::pair<std::int64_t, std::int64_t>{1, 16}, {32, 128}})
      compare_interleaved("fixture/" + n,
                          {{"optimum", g.optimum}, {"ours", g.ours}, {"ours-optimized", g.ours_optimized}}, b, sq,
                          rounds, 0.05);

  // int8 accuracy: sentence_embedding cosine to fp32 at 32 x 128, per scheme.
  for (const char* key : {"int8", "int8-avx2", "int8-avx512_vnni"}) {
    if (!graphs.count(key)) continue;
    auto sp = make_session(graphs["plain"]), sq = make_session(graphs[key]);
    auto f = make_feeds(*sp, 32, 128, 11);
    auto a = run(*sp, f), b = run(*sq, f);
    std::size_t idx = 0;
    for (std::size_t i = 0; i < f.out_names.size(); ++i)
      if (f.out_names[i] == "sentence_embedding") idx = i;
    g_extra[std::string(key) + "_min_cosine"] =
        cosine_min(a[idx].GetTensorData<float>(), b[idx].GetTensorData<float>(), 32, 384);
  }

  std::printf("\nSummary (ratios from this run; > 1 means the first is faster)\n");
  if (g_extra.count("checkpoint_MiB"))
    std::printf("  checkpoint model.safetensors: %.1f MiB\n", g_extra["checkpoint_MiB"]);
  if (g_seconds.count("export/minilm-l6/in_process"))
    std::printf("  export inside the call: %.3f s wall, %.3f s cpu (optimum via PyTorch: 1.6 s -> %.1fx)\n",
                g_seconds["export/minilm-l6/in_process"], g_cpu["export/minilm-l6/in_process"],
                1.6 / g_seconds["export/minilm-l6/in_process"]);
  if (g_seconds.count("export/minilm-l6/cli_process")) {
    const double s = g_seconds["export/minilm-l6/cli_process"];
    std::printf(
        "  whole process `ortformers export`: %.3f s wall, %.3f s cpu (goal <= 0.3 s; optimum 3.3 s -> %.1fx)\n", s,
        g_extra["cli_cpu_s"], 3.3 / s);
    std::printf("  peak RSS: %.1f MiB = %.2fx the checkpoint (goal <= 2x; optimum 703 MiB)\n",
                g_extra["cli_peak_rss_MiB"], g_extra["cli_peak_rss_MiB"] / g_extra["checkpoint_MiB"]);
  }
  auto inf = [](const std::string& k, const char* shape) { return "infer/minilm-l6/" + k + "/" + shape + ""; };
  ratio("optimized vs plain, 1x16 (goal >= 1.2x)", inf("optimized", "1x16"), inf("plain", "1x16"));
  ratio("optimized vs plain, 32x128 (goal >= 1.1x)", inf("optimized", "32x128"), inf("plain", "32x128"));
  ratio("int8 vs plain, 1x16", inf("int8", "1x16"), inf("plain", "1x16"));
  ratio("int8 vs plain, 32x128 (goal >= 2.5x)", inf("int8", "32x128"), inf("plain", "32x128"));
  ratio("int8 of the unfused plain graph vs plain, 1x16", inf("int8-unfused", "1x16"), inf("plain", "1x16"));
  ratio("int8 of the unfused plain graph vs plain, 32x128", inf("int8-unfused", "32x128"), inf("plain", "32x128"));
  ratio("int8 --quantize avx2 (u8u8) vs plain, 1x16", inf("int8-avx2", "1x16"), inf("plain", "1x16"));
  ratio("int8 --quantize avx2 (u8u8) vs plain, 32x128", inf("int8-avx2", "32x128"), inf("plain", "32x128"));
  ratio("int8 --quantize avx512_vnni (8-bit u8s8) vs plain, 1x16", inf("int8-avx512_vnni", "1x16"),
        inf("plain", "1x16"));
  ratio("int8 --quantize avx512_vnni (8-bit u8s8) vs plain, 32x128", inf("int8-avx512_vnni", "32x128"),
        inf("plain", "32x128"));
  std::printf("  CPU: VNNI (u8 x s8 without saturation) %s\n", exporters::cpu_has_int8_dot_product() ? "yes" : "no");
  for (const char* key : {"int8", "int8-avx2", "int8-avx512_vnni"}) {
    if (g_extra.count(std::string(key) + "_min_cosine"))
      std::printf("  %s sentence_embedding min cosine to fp32 (32x128): %.5f (goal >= 0.99)\n", key,
                  g_extra[std::string(key) + "_min_cosine"]);
  }
  for (const auto& n : fixture_names)
    for (const char* shape : {"1x16", "32x128"}) {
      const std::string label = "ours vs optimum, " + n + " " + shape + " (goal >= 1x)";
      ratio(label.c_str(), "fixture/" + n + "/ours/" + shape + "", "fixture/" + n + "/optimum/" + shape + "");
      const std::string label2 = "ours --optimize vs optimum, " + n + " " + shape;
      ratio(label2.c_str(), "fixture/" + n + "/ours-optimized/" + shape, "fixture/" + n + "/optimum/" + shape);
    }
  bench_deberta(cli, rounds);
  benchmark::Shutdown();
  std::error_code ec;
  if (!std::getenv("ORTFORMERS_BENCH_EXPORT_DIR")) fs::remove_all(temp_root(), ec);
  return 0;
}
