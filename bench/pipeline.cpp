// Foundation benchmarks (issue 2), one run, on a MiniLM-L6-shaped model (6 layers, hidden 384, 12 heads,
// intermediate 1536, vocab 30522, random weights, bert-base-uncased vocabulary when the fixtures are found):
//  1. writes the checkpoint and exports it natively (feature-extraction, last_hidden_state graph);
//  2. `ortformers bench feature-extraction` at batch 1 x 16 and 32 x 128 tokens (pipeline vs raw session,
//     interleaved in one process, medians) and `ortformers bench sentence-embeddings` at 1 x 16;
//  3. the whole process `ortformers run feature-extraction --model DIR "<one sentence>"`, wall time, median of N;
//  4. the same on the bert-tiny fixture export.
// Env: ORTFORMERS_CLI (default: the ortformers binary next to this program), ORTFORMERS_FIXTURES, BENCH_THREADS
// (intra-op threads, default 2), BENCH_RUNS (whole-process repetitions, default 10).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/export/export.hpp"
#include "support/minilm_checkpoint.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

namespace {

std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + cmd);
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + cmd);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double whole_process_ms(const std::string& cmd, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs + 1; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    capture(cmd + " >/dev/null");
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) t.push_back(ms);  // the first run warms the page cache
  }
  return median(t);
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

int main() {
  const fs::path self = fs::canonical("/proc/self/exe").parent_path();
  const fs::path cli = std::getenv("ORTFORMERS_CLI") ? fs::path(std::getenv("ORTFORMERS_CLI")) : self / "ortformers";
  fs::path fixtures = std::getenv("ORTFORMERS_FIXTURES") ? fs::path(std::getenv("ORTFORMERS_FIXTURES"))
                                                         : fs::path(ORTFORMERS_BENCH_SOURCE_DIR) / ".." / "shared" / "fixtures";
  const std::string threads = std::getenv("BENCH_THREADS") ? std::getenv("BENCH_THREADS") : "2";
  const int runs = std::getenv("BENCH_RUNS") ? std::atoi(std::getenv("BENCH_RUNS")) : 10;
  const fs::path root = fs::temp_directory_path() / ("ortformers-bench-pipeline-" + std::to_string(::getpid()));
  fs::create_directories(root);
  const fs::path vocab = fixtures / "vocab" / "bert-base-uncased" / "vocab.txt";
  const fs::path ckpt = bench::write_minilm_checkpoint(root / "ckpt", fs::exists(vocab) ? vocab : fs::path());
  exporters::ExportOptions eo;
  eo.task = "feature-extraction";
  eo.library_name = "transformers";
  const auto exported = exporters::export_model(ckpt, root / "onnx", eo);
  // The sentence-transformers form (pooling + Normalize inside the graph) for the sentence-embeddings bench.
  exporters::ExportOptions st;
  const auto exported_st = exporters::export_model(ckpt, root / "onnx-st", st);

  const std::string sentence = "This is an example sentence about running transformer models on a CPU.";
  std::printf("MiniLM-L6-shaped model: %s (%.1f MiB), %s intra-op threads\n", exported.onnx_path.c_str(),
              static_cast<double>(exported.onnx_bytes) / (1 << 20), threads.c_str());
  Json results = Json::array();
  for (const auto& [task, dir, b, s] : std::vector<std::tuple<std::string, fs::path, int, int>>{
           {"feature-extraction", exported.out_dir, 1, 16},
           {"feature-extraction", exported.out_dir, 32, 128},
           {"sentence-embeddings", exported_st.out_dir, 1, 16},
           {"sentence-embeddings", exported_st.out_dir, 32, 128}}) {
    const Json r = Json::parse(capture(cli.string() + " bench " + task + " --model " + q(dir) + " --batch " +
                                       std::to_string(b) + " --seq " + std::to_string(s) + " --threads " + threads +
                                       " --seconds 5 2>/dev/null"));
    std::printf("  %-20s %3d x %3d: pipeline %8.3f ms  raw session %8.3f ms  pipeline/raw %.4f  (%.1f items/s)\n",
                task.c_str(), b, s, r.at("pipeline_ms").get<double>(), r.at("raw_session_ms").get<double>(),
                r.at("pipeline_over_raw").get<double>(), r.at("pipeline_items_per_s").get<double>());
    results.push_back(r);
  }
  const double run_ms = whole_process_ms(cli.string() + " run feature-extraction --model " + q(exported.out_dir) +
                                             " --threads " + threads + " " + q(sentence),
                                         runs);
  std::printf("  whole process `ortformers run feature-extraction` (MiniLM shape, one sentence): %.1f ms (median of %d)\n",
              run_ms, runs);
  if (fs::exists(fixtures / "onnx" / "bert-tiny")) {
    const double tiny_ms = whole_process_ms(cli.string() + " run feature-extraction --model " +
                                                q(fixtures / "onnx" / "bert-tiny") + " --threads " + threads + " " + q(sentence),
                                            runs);
    std::printf("  whole process `ortformers run feature-extraction` (bert-tiny fixture): %.1f ms\n", tiny_ms);
    const Json r = Json::parse(capture(cli.string() + " bench feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") +
                                       " --batch 1 --seq 16 --threads " + threads + " --seconds 3 2>/dev/null"));
    std::printf("  bert-tiny fixture feature-extraction 1 x 16: pipeline %.3f ms raw %.3f ms pipeline/raw %.4f\n",
                r.at("pipeline_ms").get<double>(), r.at("raw_session_ms").get<double>(),
                r.at("pipeline_over_raw").get<double>());
    const Json r2 = Json::parse(capture(cli.string() + " bench feature-extraction --model " + q(fixtures / "onnx" / "bert-tiny") +
                                        " --batch 32 --seq 128 --threads " + threads + " --seconds 3 2>/dev/null"));
    std::printf("  bert-tiny fixture feature-extraction 32 x 128: pipeline %.3f ms raw %.3f ms pipeline/raw %.4f\n",
                r2.at("pipeline_ms").get<double>(), r2.at("raw_session_ms").get<double>(),
                r2.at("pipeline_over_raw").get<double>());
  }
  fs::remove_all(root);
  return 0;
}
