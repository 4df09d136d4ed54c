#pragma once
// pipeline("automatic-speech-recognition"): transformers 4.31's AutomaticSpeechRecognitionPipeline for CTC models
// (Wav2Vec2ForCTC, HuBERT, ...: greedy CTC decoding, char/word timestamps, chunked long audio) and for Whisper
// (ORTModelForSpeechSeq2Seq: generate with generate_kwargs / language / task, return_timestamps as timestamp chunks,
// return_language, chunk_length_s / stride_length_s long-form with the merge of overlapping chunks of _decode_asr,
// batch_size). The model folder's config.json (model_type "whisper") picks the kind.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/ctc.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/ctc_tokenizer.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "ortformers/tokenizers/whisper.hpp"

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

// Whisper: the pipeline's keyword arguments.
struct WhisperRecognitionOptions {
  bool return_timestamps = false;
  bool return_language = false;
  double chunk_length_s = 0;                                          // 0 = each input in one pass (cut at 30 s)
  std::optional<double> stride_length_s_left, stride_length_s_right;  // default chunk_length_s / 6 each
  Json generate_kwargs = Json::object();                              // max_new_tokens, num_beams, language, task, ...
  std::size_t batch_size = 1;                                         // chunks / inputs per generate() call
};
struct WhisperRecognitionResult {
  std::string text;
  std::vector<tokenizers::AsrChunk> chunks;  // with return_timestamps or return_language
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
  // Whisper: the inputs go through one call, so that batch_size batches chunks across inputs as transformers does.
  std::vector<Json> call_batch(const std::vector<Json>& inputs, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override;
  bool is_whisper() const noexcept { return whisper_ != nullptr; }

  // CTC: a mono waveform at feature_extractor().sampling_rate(). (InvalidArgument on a Whisper pipeline.)
  SpeechRecognitionResult operator()(const std::vector<float>& waveform,
                                     const SpeechRecognitionOptions& options = {}) const;
  const preprocessing::Wav2Vec2FeatureExtractor& feature_extractor() const;
  const preprocessing::Wav2Vec2CTCTokenizer& tokenizer() const;
  // config.inputs_to_logits_ratio: the product of conv_stride (320 for wav2vec2).
  std::int64_t inputs_to_logits_ratio() const noexcept { return ratio_; }

  // Whisper: mono waveforms at whisper_feature_extractor().sampling_rate(), one result per waveform.
  std::vector<WhisperRecognitionResult> transcribe(const std::vector<std::vector<float>>& waveforms,
                                                   const WhisperRecognitionOptions& options = {},
                                                   std::vector<std::string>* warnings = nullptr) const;
  const models::ORTModelForSpeechSeq2Seq& whisper_model() const;
  const preprocessing::WhisperFeatureExtractor& whisper_feature_extractor() const;
  const tokenizers::PreTrainedTokenizer& whisper_tokenizer() const;

 private:
  struct Whisper;
  Json call_whisper(const Json& input, const Json& kwargs);
  std::shared_ptr<const models::ORTModelForCTC> ctc_;
  std::shared_ptr<const preprocessing::Wav2Vec2FeatureExtractor> extractor_;
  std::shared_ptr<const preprocessing::Wav2Vec2CTCTokenizer> tokenizer_;
  std::int64_t ratio_ = 320;
  std::shared_ptr<const Whisper> whisper_;
};

// True when the folder (or hub id) holds a Whisper model (config.json model_type "whisper").
bool is_whisper_model(const std::string& model_id_or_path, const PipelineOptions& options = {});

}  // namespace ortformers::pipelines
