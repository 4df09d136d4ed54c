#pragma once
// pipeline("automatic-speech-recognition") for CTC models (Wav2Vec2ForCTC, HuBERT, ...): transformers'
// AutomaticSpeechRecognitionPipeline with greedy CTC decoding, char/word timestamps and chunked long audio.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/ctc.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/ctc_tokenizer.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"

namespace ortformers::pipelines {

struct SpeechRecognitionOptions {
  std::string return_timestamps;                                      // "" (none), "char" or "word"
  double chunk_length_s = 0;                                          // 0 = whole input in one pass
  std::optional<double> stride_length_s_left, stride_length_s_right;  // default chunk_length_s / 6 each
};

struct SpeechChunk {
  std::string text;
  double start = 0, end = 0;  // seconds
};

struct SpeechRecognitionResult {
  std::string text;
  std::vector<SpeechChunk> chunks;  // with return_timestamps
};

// How the pipeline cuts a waveform into chunks (transformers' chunk_iter) and rescales strides to logit frames.
struct AudioChunk {
  std::int64_t start = 0, end = 0;  // sample range
  bool is_last = false;
  std::int64_t stride_left = 0, stride_right = 0;  // samples
};
std::vector<AudioChunk> chunk_audio(std::int64_t num_samples, std::int64_t chunk_len, std::int64_t stride_left,
                                    std::int64_t stride_right);
// rescale_stride: (token_n, left, right) = (round(n * ratio), round(left / n * token_n), round(right / n * token_n)),
// Python's round (half to even).
std::array<std::int64_t, 3> rescale_stride(std::int64_t n, std::int64_t left, std::int64_t right, double ratio);

class AutomaticSpeechRecognitionPipeline : public Pipeline {
 public:
  AutomaticSpeechRecognitionPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  std::string task() const override { return "automatic-speech-recognition"; }
  // input: a file path, {"raw"|"array": [...], "sampling_rate": sr}, an array of samples at the extractor's rate,
  // or a list of paths/dicts. kwargs: return_timestamps ("char" | "word" | false), chunk_length_s,
  // stride_length_s (a number or [left, right]). Output {"text"} (+ "chunks": [{"text", "timestamp": [s, e]}]).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }

  // A mono waveform at feature_extractor().sampling_rate().
  SpeechRecognitionResult operator()(const std::vector<float>& waveform,
                                     const SpeechRecognitionOptions& options = {}) const;
  const preprocessing::Wav2Vec2FeatureExtractor& feature_extractor() const noexcept { return extractor_; }
  const preprocessing::Wav2Vec2CTCTokenizer& tokenizer() const noexcept { return tokenizer_; }
  // config.inputs_to_logits_ratio: the product of conv_stride (320 for wav2vec2).
  std::int64_t inputs_to_logits_ratio() const noexcept { return ratio_; }

 private:
  models::ORTModelForCTC model_;
  preprocessing::Wav2Vec2FeatureExtractor extractor_;
  preprocessing::Wav2Vec2CTCTokenizer tokenizer_;
  std::int64_t ratio_ = 320;
};

}  // namespace ortformers::pipelines
