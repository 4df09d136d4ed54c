// Single-thread encode throughput (tokens/s, bytes/s) of bert-base-uncased, roberta-base, gpt2 and t5-small
// (../shared/fixtures/tokenizers) on the 5,000-word corpus document and on a batch of 1,000 short sentences (the
// corpus strings under 200 bytes, cycled). bench/tokenizers_rust.js times the same workloads with the Rust library.
// Fixtures: $ORTFORMERS_FIXTURES, else ../shared/fixtures from the current folder or its parents.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using ortformers::tokenizers::Tokenizer;

fs::path fixtures() {
  if (const char* e = std::getenv("ORTFORMERS_FIXTURES")) return e;
  for (fs::path p = fs::current_path(); !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p / "shared" / "fixtures" / "tokenizers")) return p / "shared" / "fixtures";
    if (fs::is_directory(p / ".." / "shared" / "fixtures" / "tokenizers")) return p / ".." / "shared" / "fixtures";
    if (p == p.parent_path()) break;
  }
  return "/work/shared/fixtures";
}

struct Workloads {
  std::string document;
  std::vector<std::string> sentences;
  Workloads() {
    const auto corpus = ortformers::read_json_file(fixtures() / "tokenizers" / "corpus.json");
    document = corpus["documents"][0]["text"].get<std::string>();
    std::vector<std::string> shorts;
    for (const auto& s : corpus["strings"]) {
      const std::string t = s["text"].get<std::string>();
      if (t.size() < 200) shorts.push_back(t);
    }
    for (std::size_t i = 0; sentences.size() < 1000; ++i) sentences.push_back(shorts[i % shorts.size()]);
  }
};

const Workloads& workloads() {
  static const Workloads w;
  return w;
}

const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& t = cache[name];
  if (!t) t = std::make_unique<Tokenizer>(Tokenizer::from_file(fixtures() / "tokenizers" / name / "tokenizer.json"));
  return *t;
}

void BM_Document(benchmark::State& state, const std::string& name) {
  const Tokenizer& tok = tokenizer(name);
  const std::string& doc = workloads().document;
  std::size_t tokens = 0;
  for (auto _ : state) {
    auto e = tok.encode(doc, true);
    tokens += e.size();
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * doc.size()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_Sentences(benchmark::State& state, const std::string& name) {
  const Tokenizer& tok = tokenizer(name);
  const auto& s = workloads().sentences;
  std::size_t bytes = 0;
  for (const auto& x : s) bytes += x.size();
  std::size_t tokens = 0;
  for (auto _ : state) {
    for (const auto& x : s) {
      auto e = tok.encode(x, true);
      tokens += e.size();
      benchmark::DoNotOptimize(e);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

const int registered = [] {
  for (const char* n : {"bert-base-uncased", "roberta-base", "gpt2", "t5-small"}) {
    benchmark::RegisterBenchmark((std::string("document/") + n).c_str(), BM_Document, std::string(n))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("sentences1000/") + n).c_str(), BM_Sentences, std::string(n))
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
