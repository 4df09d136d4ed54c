// Whisper transcription of the 35 s fixture clip (media/audio/long_35s_16k_mono.wav) with the whisper-tiny fixture
// (a randomly initialised, scaled-down Whisper: 2+2 layers, d_model 32, the real 51865-token vocabulary), in one run.
// Counters: rtf = wall time / 35 s of audio (lower is better), tokens_per_s = generated tokens / wall time.
// Not a test; the figures describe the pipeline's overhead around a tiny model, not real Whisper checkpoints.
//   bench_whisper --benchmark_filter=Whisper
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "ortformers/generation/whisper.hpp"
#include "ortformers/pipelines/automatic_speech_recognition.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

namespace {

fs::path fixtures() {
  if (const char* e = std::getenv("ORTFORMERS_FIXTURES")) return e;
  for (fs::path p = fs::current_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "shared" / "fixtures")) return p / "shared" / "fixtures";
  return "/work/shared/fixtures";
}

constexpr double kSeconds = 35.0;

std::vector<float> long_clip() {
  return preprocessing::load_audio_mono(fixtures() / "media/audio/long_35s_16k_mono.wav", 16000);
}

// Log-mel of one 30 s window.
void WhisperFeatureExtractor30s(benchmark::State& st) {
  const auto fe = preprocessing::WhisperFeatureExtractor::from_pretrained(fixtures() / "onnx/whisper-tiny");
  auto wave = long_clip();
  wave.resize(480000);
  for (auto _ : st) benchmark::DoNotOptimize(fe(wave));
}

// The ASR pipeline on the 35 s file: chunk_length_s (arg 0: 30 s, 2 chunks; arg 1: 10 s, 5 chunks), max_new_tokens
// 64, batch_size 1 / the number of chunks.
void WhisperTranscribe35s(benchmark::State& st) {
  pipelines::AutomaticSpeechRecognitionPipeline p((fixtures() / "onnx/whisper-tiny").string());
  const auto wave = long_clip();
  pipelines::WhisperRecognitionOptions o;
  o.chunk_length_s = st.range(0) == 0 ? 30 : 10;
  o.batch_size = static_cast<std::size_t>(st.range(1));
  o.generate_kwargs = {{"max_new_tokens", 64}};
  // Generated tokens per transcription (the random model rarely stops before max_new_tokens).
  const auto counted = p.whisper_tokenizer().backend().encode(p.transcribe({wave}, o)[0].text, false).ids.size();
  double seconds = 0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(p.transcribe({wave}, o));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double per = seconds / static_cast<double>(st.iterations());
  st.counters["rtf"] = per / kSeconds;
  st.counters["text_tokens"] = static_cast<double>(counted);
  st.counters["tokens_per_s"] = static_cast<double>(counted) / per;
}

// generate() alone on one 30 s window: 64 new tokens, greedy.
void WhisperGenerate64(benchmark::State& st) {
  const auto model = models::ORTModelForSpeechSeq2Seq::from_pretrained((fixtures() / "onnx/whisper-tiny").string());
  const auto fe = preprocessing::WhisperFeatureExtractor::from_pretrained(fixtures() / "onnx/whisper-tiny");
  const auto x = fe(long_clip()).at("input_features");
  std::int64_t tokens = 0;
  double seconds = 0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = generation::generate_whisper(model, {{"input_features", x}}, {},
                                                  {{"max_new_tokens", 64}, {"min_new_tokens", 64}});
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tokens += out.sequences.dim(1) - 4;
  }
  st.counters["tokens_per_s"] = static_cast<double>(tokens) / seconds;
}

BENCHMARK(WhisperFeatureExtractor30s)->Unit(benchmark::kMillisecond);
BENCHMARK(WhisperTranscribe35s)->Args({0, 1})->Args({1, 1})->Args({1, 5})->Unit(benchmark::kMillisecond);
BENCHMARK(WhisperGenerate64)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
