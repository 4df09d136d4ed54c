#pragma once
// The backend: one model loaded once (one ONNX Runtime session), run on padded batches of token sequences, or its
// pipeline called on Inference-API inputs. It never sees HTTP (text-embeddings-inference's backends/ split).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ortformers/config/pretrained_config.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/generation/generation_config.hpp"
#include "ortformers/models/decoder_step.hpp"
#include "ortformers/pipelines/automatic_speech_recognition.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/pooling.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"
#include "ortformers/server/options.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::server {

// What the model serves, as TEI's ModelType; Pipeline = any other task (only / and /pipeline run it).
enum class ModelKind { Embedding, Sparse, Classifier, Reranker, Pipeline };
const char* to_string(ModelKind kind) noexcept;

// What a sequence asks of a model batch.
enum class OutputKind {
  Pooled,     // [dim]: the sentence embedding as sentence-transformers encodes it (with the model's Normalize, if any)
  AllTokens,  // [tokens * hidden]: every token's embedding
  Sparse,     // [vocab]: SPLADE max over tokens of log(1 + relu(logits))
  Logits,     // [num_labels]
};

struct Sequence {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> type_ids;
  OutputKind output = OutputKind::Pooled;
};

// A failure of a model run (maps to TEI's Backend error, HTTP 424).
struct BackendError : RuntimeError {
  explicit BackendError(const std::string& m) : RuntimeError(m) {}
};

class Backend {
 public:
  // Resolves/exports/quantises the model, detects the task and model kind, loads tokenizer and session.
  explicit Backend(const ServerOptions& options);
  virtual ~Backend() = default;

  ModelKind kind() const noexcept { return kind_; }
  const std::string& task() const noexcept { return task_; }
  const std::string& model_dir() const noexcept { return model_dir_; }
  const config::PretrainedConfig& config() const;
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return tokenizer_; }
  bool has_tokenizer() const noexcept { return has_tokenizer_; }
  std::size_t max_input_length() const noexcept { return max_input_length_; }
  std::string pooling_name() const;
  // The sentence-transformers files of the served folder (max_seq_length, do_lower_case, Pooling, Normalize).
  const pipelines::SentenceTransformerConfig& st_config() const noexcept { return st_; }
  std::string model_dtype() const;
  // sentence-transformers prompts (config_sentence_transformers.json) and the default prompt name ("" = none).
  const std::map<std::string, std::string>& prompts() const noexcept { return prompts_; }
  const std::string& default_prompt_name() const noexcept { return default_prompt_name_; }

  // Generative models (text-generation: a decoder-only model; text2text-generation, summarization, translation:
  // T5 / BART; automatic-speech-recognition with Whisper: the scheduler's cohorts drive them): the model, its
  // generation_config.json and the eos ids generation stops at; null / empty for every other task.
  const models::GenerativeModel* generative_model() const noexcept { return generative_; }
  const generation::GenerationConfig& generation_config() const noexcept { return generation_config_; }
  std::vector<std::int64_t> eos_token_ids() const;
  // Whisper (automatic-speech-recognition): its pipeline (feature extractor, config.json's forced_decoder_ids) for
  // /v1/audio/transcriptions, whose rows the scheduler runs; null for every other model (CTC models included).
  const pipelines::AutomaticSpeechRecognitionPipeline* speech_recognition() const noexcept { return speech_; }

  // One padded batch through the session; one output vector per sequence, in order. BackendError on failure.
  virtual std::vector<std::vector<float>> run(const std::vector<const Sequence*>& batch);
  // The task pipeline on one Inference-API input: exactly what `ortformers run` prints for it.
  virtual Json run_pipeline(const Json& input, const Json& parameters);

 protected:
  Backend() = default;  // for tests that replace the model

 private:
  ModelKind kind_ = ModelKind::Pipeline;
  std::string task_;
  std::string model_dir_;
  std::unique_ptr<pipelines::Pipeline> pipeline_;
  tokenizers::PreTrainedTokenizer tokenizer_;
  bool has_tokenizer_ = false;
  const pipelines::SentenceEmbeddingsPipeline* embeddings_ = nullptr;  // embedding models: the pipeline's path
  pipelines::EncodeOptions encode_options_;                            // --pooling
  pipelines::SentenceTransformerConfig st_;
  bool splade_ = false;
  std::size_t max_input_length_ = 512;
  std::map<std::string, std::string> prompts_;
  std::string default_prompt_name_;
  std::vector<std::string> graph_inputs_;
  const models::GenerativeModel* generative_ = nullptr;
  generation::GenerationConfig generation_config_;
  const pipelines::AutomaticSpeechRecognitionPipeline* speech_ = nullptr;
};

}  // namespace ortformers::server
