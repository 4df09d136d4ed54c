// Encoder-decoder generation as bench/generative_bench.sh runs transformers.js on the same ONNX files (not a test):
// greedy, max_new_tokens N, one input per call, `rounds` calls after a warm-up. Prints one JSON line.
//   bench_generative whisper DIR WAV ROUNDS MAX_NEW_TOKENS THREADS   log-mel of the WAV's first 30 s + generate
//   bench_generative seq2seq DIR IDS_JSON ROUNDS MAX_NEW_TOKENS THREADS   generate from the encoder's input_ids
#include <chrono>
#include <functional>
#include <iostream>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

using namespace ortformers;

namespace {

struct Timing {
  double seconds = 0;
  std::int64_t tokens = 0;
};

Timing timed(int rounds, const std::function<std::int64_t()>& run) {
  run();  // warm-up
  Timing t;
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) t.tokens += run();
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: bench_generative whisper|seq2seq DIR WAV|IDS_JSON ROUNDS MAX_NEW_TOKENS THREADS\n";
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2], input = argv[3];
  const int rounds = std::stoi(argv[4]), new_tokens = std::stoi(argv[5]), threads = std::stoi(argv[6]);
  models::EncoderDecoderOptions o;
  o.base.session.intra_op_num_threads = threads;
  const Json kwargs{{"max_new_tokens", new_tokens}, {"num_beams", 1}, {"do_sample", false}};
  Json out{{"engine", "ortformers"},
           {"mode", mode},
           {"model", std::filesystem::path(dir).filename().string()},
           {"rounds", rounds}};
  Timing t;
  if (mode == "whisper") {
    const auto model = models::ORTModelForSpeechSeq2Seq::from_pretrained(dir, o);
    const auto fe = preprocessing::WhisperFeatureExtractor::from_pretrained(dir);
    auto wave = preprocessing::load_audio_mono(input, 16000);
    wave.resize(std::min<std::size_t>(wave.size(), 30 * 16000));
    t = timed(rounds, [&] {
      const auto features = fe(wave).at("input_features");
      return generation::generate_whisper(model, {{"input_features", features}}, {}, kwargs).sequences.dim(1);
    });
    out["audio_seconds"] = 30 * rounds;
    out["rtf"] = t.seconds / (30.0 * rounds);
  } else if (mode == "seq2seq") {
    const auto model = models::ORTModelForSeq2SeqLM::from_pretrained(dir, o);
    const auto rows = Json::parse(input).get<std::vector<std::vector<std::int64_t>>>();
    std::vector<std::int64_t> flat;
    for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    const Shape shape{static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows.front().size())};
    const Tensor ids = Tensor::from_vector(flat, shape);
    const Tensor mask = Tensor::from_vector(std::vector<std::int64_t>(flat.size(), 1), shape);
    auto config = generation::GenerationConfig::from_pretrained(dir);
    config.update(kwargs);
    t = timed(rounds, [&] {
      const auto s =
          generation::generate(model, TensorMap{{"input_ids", ids}, {"attention_mask", mask}}, config).sequences;
      return s.dim(0) * s.dim(1);
    });
  } else {
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  }
  out["seconds"] = t.seconds;
  out["tokens"] = t.tokens;
  out["tokens_per_s"] = static_cast<double>(t.tokens) / t.seconds;
  std::cout << out.dump() << std::endl;
  return 0;
}
