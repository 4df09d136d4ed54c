#pragma once
// Sentence embeddings as sentence-transformers computes them (SentenceTransformer.encode): tokenizer with
// max_seq_length, the transformer, Pooling, optional Normalize. Works on both graph forms: a graph that already
// outputs `sentence_embedding` (optimum's sentence-transformers export; pooling and Normalize are inside it) and one
// that outputs only `last_hidden_state` (pooling and normalisation done here). Never pools or normalises twice.
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/ort_model.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/pooling.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::pipelines {

struct EncodeOptions {
  std::size_t batch_size = 32;         // sentence-transformers' default
  std::optional<PoolingMode> pooling;  // override the folder's Pooling config
  std::optional<bool> normalize;       // override the folder's Normalize module
};

class SentenceEmbeddingsPipeline : public Pipeline {
 public:
  SentenceEmbeddingsPipeline(models::ORTModelForFeatureExtraction model, tokenizers::PreTrainedTokenizer tokenizer,
                             SentenceTransformerConfig st_config);
  static std::unique_ptr<SentenceEmbeddingsPipeline> from_pretrained(const std::string& model_id_or_path,
                                                                     const PipelineOptions& options = {});

  // [texts.size(), dim] float32. Texts are batched in input order (batch_size at a time, padded to the longest).
  Tensor encode(const std::vector<std::string>& texts, const EncodeOptions& options = {}) const;
  std::vector<float> encode(const std::string& text, const EncodeOptions& options = {}) const;
  // The model part of encode on inputs already tokenized and padded (input_ids, attention_mask [B, S], and
  // token_type_ids when the graph takes them): [B, dim] float32 sentence embeddings. The one place that decides how a
  // sentence embedding is made: the graph's `sentence_embedding` (pooling and Normalize exported inside it) unless
  // `options` override pooling or normalisation, else the folder's Pooling (+ Normalize) over the token embeddings.
  // `token_embeddings`, when given, receives the graph's token embeddings [B, S, H] float32.
  Tensor embed(const TensorMap& inputs, const EncodeOptions& options = {}, Tensor* token_embeddings = nullptr) const;
  // True when embed() with these options returns the graph's own `sentence_embedding`.
  bool uses_graph_pooling(const EncodeOptions& options = {}) const;

  std::string task() const override { return "sentence-embeddings"; }
  // input: a string -> a flat vector; a list of strings -> a list of vectors. kwargs: pooling, normalize, batch_size.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  std::vector<Json> call_batch(const std::vector<Json>& inputs, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }
  const SentenceTransformerConfig& st_config() const { return st_; }
  std::int64_t max_seq_length() const { return max_seq_length_; }

 private:
  EncodeOptions parse_options(const Json& kwargs) const;
  models::ORTModelForFeatureExtraction model_;
  tokenizers::PreTrainedTokenizer tokenizer_;
  SentenceTransformerConfig st_;
  std::int64_t max_seq_length_ = 512;
};

// Cosine similarity matrix of two embedding sets [N, D] x [M, D] -> [N, M].
Tensor cos_sim(const Tensor& a, const Tensor& b);

}  // namespace ortformers::pipelines
