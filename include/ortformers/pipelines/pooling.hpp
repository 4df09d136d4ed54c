#pragma once
// sentence-transformers pooling (models.Pooling) and normalisation (models.Normalize) over token embeddings.
#include <filesystem>
#include <string>
#include <vector>

#include "ortformers/core/tensor.hpp"

namespace ortformers::pipelines {

enum class PoolingMode { Cls, Max, Mean, MeanSqrtLen, WeightedMean, LastToken };

PoolingMode pooling_mode_from_string(const std::string& name);  // "cls", "mean", "max", "mean_sqrt_len", ...
const char* to_string(PoolingMode mode) noexcept;

// 1_Pooling/config.json. Several modes may be on: their results are concatenated in sentence-transformers' order
// (cls, max, mean, mean_sqrt_len, weightedmean, lasttoken).
struct PoolingConfig {
  std::vector<PoolingMode> modes{PoolingMode::Mean};
  std::int64_t word_embedding_dimension = 0;  // 0 = not recorded
  static PoolingConfig from_file(const std::filesystem::path& config_json);
};

// What a sentence-transformers folder says: modules.json, 1_Pooling/config.json, Normalize, sentence_bert_config.json.
struct SentenceTransformerConfig {
  bool present = false;                 // the folder has modules.json
  PoolingConfig pooling;                // from the Pooling module (mean when the folder has none)
  bool normalize = false;               // a Normalize module is listed
  std::int64_t max_seq_length = -1;     // sentence_bert_config.json; -1 when absent
  bool do_lower_case = false;           // sentence_bert_config.json
  static SentenceTransformerConfig from_pretrained(const std::filesystem::path& dir);
};

// token_embeddings [B, S, H] float32, attention_mask [B, S] (any integer dtype) -> [B, H * modes]
Tensor pool(const Tensor& token_embeddings, const Tensor& attention_mask, const PoolingConfig& config);
// Row-wise L2 normalisation, x / max(||x||, 1e-12) as torch.nn.functional.normalize. In place on a float32 [B, D].
void l2_normalize_rows(Tensor& embeddings);

}  // namespace ortformers::pipelines
