// Download verification speed: SHA-256 (the ETag of LFS files: the weights) and git blob SHA-1 (the ETag of the
// other files) of a 1 GiB file, as hf_hub_download verifies every file it fetches (a model is several GB).
// The file is generated in $TMPDIR (default /tmp) before the benchmarks and deleted after them; its size can be
// changed with ORTFORMERS_HASH_BENCH_BYTES. Throughput is reported as bytes_per_second.
//   bench_hashing [--benchmark_repetitions=N]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "hub/hashing.hpp"

namespace fs = std::filesystem;
using namespace ortformers::hub::detail;

namespace {

fs::path g_file;
std::uint64_t g_size = 0;

// Deterministic incompressible content (splitmix64), written in 1 MiB chunks.
void write_file(const fs::path& path, std::uint64_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> chunk((1u << 20) / sizeof(std::uint64_t));
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::uint64_t written = 0; written < size;) {
    for (auto& w : chunk) {
      std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
    const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(size - written, chunk.size() * 8));
    out.write(reinterpret_cast<const char*>(chunk.data()), n);
    written += static_cast<std::uint64_t>(n);
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void VerifySha256File(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(sha256_file(g_file));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * g_size));
}
void VerifyGitBlobSha1File(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(git_blob_sha1_file(g_file));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * g_size));
}

BENCHMARK(VerifySha256File)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(VerifyGitBlobSha1File)->Unit(benchmark::kMillisecond)->Iterations(3);

// Deletes the generated file however main ends.
struct RemoveOnExit {
  ~RemoveOnExit() {
    std::error_code ec;
    if (!g_file.empty()) fs::remove(g_file, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const char* bytes = std::getenv("ORTFORMERS_HASH_BENCH_BYTES");
  g_size = bytes ? std::strtoull(bytes, nullptr, 10) : (1ull << 30);
  RemoveOnExit cleanup;
  g_file = fs::temp_directory_path() / ("ortformers_bench_hashing_" + std::to_string(::getpid()) + ".bin");
  write_file(g_file, g_size);
  // The digests, so two runs (or two implementations) can be compared.
  std::cerr << "file " << g_file.string() << " (" << g_size << " bytes)\nsha256 " << sha256_file(g_file)
            << "\ngit blob sha1 " << git_blob_sha1_file(g_file) << "\n";
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
