#include "ortformers/pipelines/pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::pipelines {

namespace fs = std::filesystem;

PoolingMode pooling_mode_from_string(const std::string& name) {
  if (name == "cls" || name == "cls_token") return PoolingMode::Cls;
  if (name == "max" || name == "max_tokens") return PoolingMode::Max;
  if (name == "mean" || name == "mean_tokens") return PoolingMode::Mean;
  if (name == "mean_sqrt_len" || name == "mean_sqrt_len_tokens") return PoolingMode::MeanSqrtLen;
  if (name == "weightedmean" || name == "weighted_mean") return PoolingMode::WeightedMean;
  if (name == "lasttoken" || name == "last_token") return PoolingMode::LastToken;
  throw InvalidArgument("unknown pooling mode '" + name +
                        "' (expected cls, mean, max, mean_sqrt_len, weightedmean or lasttoken)");
}

const char* to_string(PoolingMode mode) noexcept {
  switch (mode) {
    case PoolingMode::Cls: return "cls";
    case PoolingMode::Max: return "max";
    case PoolingMode::Mean: return "mean";
    case PoolingMode::MeanSqrtLen: return "mean_sqrt_len";
    case PoolingMode::WeightedMean: return "weightedmean";
    case PoolingMode::LastToken: return "lasttoken";
  }
  return "?";
}

PoolingConfig PoolingConfig::from_file(const fs::path& file) {
  const Json j = read_json_file(file);
  if (!j.is_object()) throw FileFormatError(file.string() + ": expected a JSON object");
  auto flag = [&](const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return false;
    if (!j.at(key).is_boolean()) throw FileFormatError(file.string() + ": field '" + key + "' must be true or false");
    return j.at(key).get<bool>();
  };
  PoolingConfig c;
  c.modes.clear();
  if (flag("pooling_mode_cls_token")) c.modes.push_back(PoolingMode::Cls);
  if (flag("pooling_mode_max_tokens")) c.modes.push_back(PoolingMode::Max);
  if (flag("pooling_mode_mean_tokens")) c.modes.push_back(PoolingMode::Mean);
  if (flag("pooling_mode_mean_sqrt_len_tokens")) c.modes.push_back(PoolingMode::MeanSqrtLen);
  if (flag("pooling_mode_weightedmean_tokens")) c.modes.push_back(PoolingMode::WeightedMean);
  if (flag("pooling_mode_lasttoken")) c.modes.push_back(PoolingMode::LastToken);
  if (c.modes.empty()) throw FileFormatError(file.string() + ": no pooling_mode_* is enabled");
  if (j.contains("word_embedding_dimension") && j.at("word_embedding_dimension").is_number_integer()) {
    c.word_embedding_dimension = j.at("word_embedding_dimension").get<std::int64_t>();
  }
  return c;
}

SentenceTransformerConfig SentenceTransformerConfig::from_pretrained(const fs::path& dir) {
  SentenceTransformerConfig c;
  const fs::path modules_file = dir / "modules.json";
  if (!fs::exists(modules_file)) return c;
  c.present = true;
  const Json modules = read_json_file(modules_file);
  if (!modules.is_array()) throw FileFormatError(modules_file.string() + ": expected a JSON array of modules");
  for (const auto& m : modules) {
    const std::string type = m.value("type", "");
    const std::string path = m.value("path", "");
    if (type.ends_with(".Pooling")) {
      const fs::path cfg = dir / path / "config.json";
      if (!fs::exists(cfg))
        throw NotFoundError(modules_file.string() + " lists a Pooling module but " + cfg.string() + " is missing");
      c.pooling = PoolingConfig::from_file(cfg);
    } else if (type.ends_with(".Normalize")) {
      c.normalize = true;
    }
  }
  if (fs::exists(dir / "sentence_bert_config.json")) {
    const Json sb = read_json_file(dir / "sentence_bert_config.json");
    if (sb.contains("max_seq_length") && sb.at("max_seq_length").is_number_integer()) {
      c.max_seq_length = sb.at("max_seq_length").get<std::int64_t>();
    }
    if (sb.contains("do_lower_case") && sb.at("do_lower_case").is_boolean()) {
      c.do_lower_case = sb.at("do_lower_case").get<bool>();
    }
  }
  return c;
}

Tensor pool(const Tensor& token_embeddings, const Tensor& attention_mask, const PoolingConfig& config) {
  if (token_embeddings.rank() != 3) {
    throw InvalidArgument("pooling needs token embeddings [batch, seq, hidden], got " +
                          shape_to_string(token_embeddings.shape()));
  }
  const std::int64_t B = token_embeddings.dim(0), S = token_embeddings.dim(1), H = token_embeddings.dim(2);
  if (attention_mask.rank() != 2 || attention_mask.dim(0) != B || attention_mask.dim(1) != S) {
    throw InvalidArgument("attention mask " + shape_to_string(attention_mask.shape()) +
                          " does not match token embeddings " + shape_to_string(token_embeddings.shape()));
  }
  const Tensor emb_f =
      token_embeddings.dtype() == DType::Float32 ? token_embeddings : token_embeddings.to(DType::Float32);
  const Tensor mask_i = attention_mask.dtype() == DType::Int64 ? attention_mask : attention_mask.to(DType::Int64);
  const float* emb = emb_f.data<float>();
  const std::int64_t* mask = mask_i.data<std::int64_t>();
  const auto M = static_cast<std::int64_t>(config.modes.size());
  Tensor out = Tensor::zeros(DType::Float32, {B, H * M});
  float* o = out.data<float>();
  for (std::int64_t b = 0; b < B; ++b) {
    const float* e = emb + b * S * H;
    const std::int64_t* mk = mask + b * S;
    for (std::int64_t m = 0; m < M; ++m) {
      float* dst = o + b * H * M + m * H;
      switch (config.modes[static_cast<std::size_t>(m)]) {
        case PoolingMode::Cls: std::copy(e, e + H, dst); break;
        case PoolingMode::Max:
          for (std::int64_t h = 0; h < H; ++h) {
            float best = -std::numeric_limits<float>::infinity();
            for (std::int64_t s = 0; s < S; ++s) best = std::max(best, mk[s] ? e[s * H + h] : -1e9f);
            dst[h] = best;
          }
          break;
        case PoolingMode::Mean:
        case PoolingMode::MeanSqrtLen:
        case PoolingMode::WeightedMean: {
          // Accumulate in float as torch does (sum over the sequence axis of float32 products).
          const bool weighted = config.modes[static_cast<std::size_t>(m)] == PoolingMode::WeightedMean;
          std::vector<float> sum(static_cast<std::size_t>(H), 0.f);
          float count = 0.f;
          for (std::int64_t s = 0; s < S; ++s) {
            const float w = static_cast<float>(mk[s]) * (weighted ? static_cast<float>(s + 1) : 1.f);
            if (w == 0.f) continue;
            count += w;
            for (std::int64_t h = 0; h < H; ++h) sum[static_cast<std::size_t>(h)] += e[s * H + h] * w;
          }
          const float denom = config.modes[static_cast<std::size_t>(m)] == PoolingMode::MeanSqrtLen
                                  ? std::sqrt(count)
                                  : std::max(count, 1e-9f);
          for (std::int64_t h = 0; h < H; ++h) dst[h] = sum[static_cast<std::size_t>(h)] / denom;
          break;
        }
        case PoolingMode::LastToken: {
          std::int64_t last = -1;
          for (std::int64_t s = 0; s < S; ++s)
            if (mk[s]) last = s;
          if (last < 0) last = 0;
          std::copy(e + last * H, e + (last + 1) * H, dst);
          break;
        }
      }
    }
  }
  return out;
}

void l2_normalize_rows(Tensor& x) {
  if (x.rank() != 2 || x.dtype() != DType::Float32) {
    throw InvalidArgument("l2_normalize_rows needs a float32 [batch, dim] tensor, got " + shape_to_string(x.shape()));
  }
  float* d = x.data<float>();
  const std::int64_t B = x.dim(0), D = x.dim(1);
  for (std::int64_t b = 0; b < B; ++b) {
    float* row = d + b * D;
    double ss = 0;
    for (std::int64_t i = 0; i < D; ++i) ss += static_cast<double>(row[i]) * row[i];
    const float norm = std::max(static_cast<float>(std::sqrt(ss)), 1e-12f);
    for (std::int64_t i = 0; i < D; ++i) row[i] /= norm;
  }
}

}  // namespace ortformers::pipelines
