// Preprocessing time vs model time for the vision and audio fixtures, in one run (not a test).
// ORTFORMERS_FIXTURES (or ../shared/fixtures next to the source tree) must hold the fixtures.
//   bench_media --benchmark_filter=Image   per image: decode, processor, model
//   bench_media --benchmark_filter=Audio   per second of audio: decode+resample, feature extractor, model
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "ortformers/models/ctc.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/models/semantic_segmentation.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"

namespace fs = std::filesystem;
using namespace ortformers;

namespace {

fs::path fixtures() {
  if (const char* e = std::getenv("ORTFORMERS_FIXTURES")) return e;
  for (fs::path p = fs::current_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "shared" / "fixtures")) return p / "shared" / "fixtures";
  return "/work/shared/fixtures";
}

const fs::path kScene = "media/images/scene_640x480.jpg";
const fs::path kSpeech44 = "media/audio/speech_44k1_stereo.wav";
const fs::path kLong = "media/audio/long_35s_16k_mono.wav";

void ImageDecodeJpeg640x480(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(preprocessing::load_image(fixtures() / kScene));
}
void ImageProcessorSegformer640x480(benchmark::State& st) {
  const auto img = preprocessing::load_image(fixtures() / kScene);
  const auto proc = preprocessing::ImageProcessor::from_pretrained(fixtures() / "onnx/segformer-tiny");
  for (auto _ : st) benchmark::DoNotOptimize(proc(img));
}
void ImageModelSegformer64(benchmark::State& st) {
  const auto img = preprocessing::load_image(fixtures() / kScene);
  const auto proc = preprocessing::ImageProcessor::from_pretrained(fixtures() / "onnx/segformer-tiny");
  const auto model =
      models::ORTModelForSemanticSegmentation::from_pretrained((fixtures() / "onnx/segformer-tiny").string());
  const Tensor pv = proc(img);
  for (auto _ : st) benchmark::DoNotOptimize(model.forward(pv));
}
void ImageProcessorVit640x480(benchmark::State& st) {
  const auto img = preprocessing::load_image(fixtures() / kScene);
  const auto proc = preprocessing::ImageProcessor::from_pretrained(fixtures() / "onnx/vit-tiny-cls");
  for (auto _ : st) benchmark::DoNotOptimize(proc(img));
}
void ImageModelVit32(benchmark::State& st) {
  const auto img = preprocessing::load_image(fixtures() / kScene);
  const auto proc = preprocessing::ImageProcessor::from_pretrained(fixtures() / "onnx/vit-tiny-cls");
  const auto model =
      models::ORTModelForImageClassification::from_pretrained((fixtures() / "onnx/vit-tiny-cls").string());
  const Tensor pv = proc(img);
  for (auto _ : st) benchmark::DoNotOptimize(model.forward(pv));
}

// Audio: counters report time per second of audio.
void AudioDecodeResample44k1Stereo(benchmark::State& st) {
  const auto a = preprocessing::load_audio(fixtures() / kSpeech44);
  const double seconds = static_cast<double>(a.frames()) / a.sampling_rate;
  for (auto _ : st) benchmark::DoNotOptimize(preprocessing::load_audio_mono(fixtures() / kSpeech44, 16000));
  st.counters["audio_s_per_s"] = benchmark::Counter(seconds, benchmark::Counter::kIsIterationInvariantRate);
}
void AudioFeatureExtractor35s(benchmark::State& st) {
  const auto wave = preprocessing::load_audio_mono(fixtures() / kLong, 16000);
  const auto fe = preprocessing::Wav2Vec2FeatureExtractor::from_pretrained(fixtures() / "onnx/wav2vec2-tiny-ctc");
  for (auto _ : st) benchmark::DoNotOptimize(fe(wave));
  st.counters["audio_s_per_s"] =
      benchmark::Counter(wave.size() / 16000.0, benchmark::Counter::kIsIterationInvariantRate);
}
void AudioDecode35s(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(preprocessing::load_audio_mono(fixtures() / kLong, 16000));
  st.counters["audio_s_per_s"] = benchmark::Counter(35.0, benchmark::Counter::kIsIterationInvariantRate);
}
void AudioModelCTC35s(benchmark::State& st) {
  const auto wave = preprocessing::load_audio_mono(fixtures() / kLong, 16000);
  const auto fe = preprocessing::Wav2Vec2FeatureExtractor::from_pretrained(fixtures() / "onnx/wav2vec2-tiny-ctc");
  const auto model = models::ORTModelForCTC::from_pretrained((fixtures() / "onnx/wav2vec2-tiny-ctc").string());
  const auto in = fe(wave);
  for (auto _ : st) benchmark::DoNotOptimize(model.forward(in));
  st.counters["audio_s_per_s"] =
      benchmark::Counter(wave.size() / 16000.0, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(ImageDecodeJpeg640x480)->Unit(benchmark::kMillisecond);
BENCHMARK(ImageProcessorSegformer640x480)->Unit(benchmark::kMillisecond);
BENCHMARK(ImageModelSegformer64)->Unit(benchmark::kMillisecond);
BENCHMARK(ImageProcessorVit640x480)->Unit(benchmark::kMillisecond);
BENCHMARK(ImageModelVit32)->Unit(benchmark::kMillisecond);
BENCHMARK(AudioDecodeResample44k1Stereo)->Unit(benchmark::kMillisecond);
BENCHMARK(AudioDecode35s)->Unit(benchmark::kMillisecond);
BENCHMARK(AudioFeatureExtractor35s)->Unit(benchmark::kMillisecond);
BENCHMARK(AudioModelCTC35s)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
