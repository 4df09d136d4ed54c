#include "ortformers/pipelines/fill_mask.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "ortformers/core/error.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

std::vector<std::pair<std::int64_t, double>> top_k_tokens(std::span<const float> logits, std::size_t top_k,
                                                          const std::vector<std::int64_t>& target_ids) {
  if (logits.empty()) return {};
  // softmax(logits)[i] = exp(l_i - max) / sum: one pass for the normaliser, and the top_k chosen on the logits
  // themselves (same order as the probabilities), without materialising the vocabulary-sized distribution.
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l - mx));
  auto prob = [&](std::size_t i) { return std::exp(static_cast<double>(logits[i] - mx)) / sum; };
  auto better = [&](std::int64_t a, std::int64_t b) {
    const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
    return la != lb ? la > lb : a < b;
  };
  std::vector<std::int64_t> best;  // kept sorted, at most top_k
  auto offer = [&](std::int64_t id) {
    if (best.size() == top_k && (top_k == 0 || !better(id, best.back()))) return;
    best.insert(std::upper_bound(best.begin(), best.end(), id, better), id);
    if (best.size() > top_k) best.pop_back();
  };
  if (target_ids.empty()) {
    for (std::size_t i = 0; i < logits.size(); ++i) offer(static_cast<std::int64_t>(i));
  } else {
    for (auto id : target_ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= logits.size()) {
        throw InvalidArgument("fill-mask: target id " + std::to_string(id) + " is outside the model's vocabulary");
      }
      offer(id);
    }
  }
  std::vector<std::pair<std::int64_t, double>> out;
  out.reserve(best.size());
  for (auto id : best) out.emplace_back(id, prob(static_cast<std::size_t>(id)));
  return out;
}

FillMaskPipeline::FillMaskPipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : model_(models::ORTModelForMaskedLM::from_pretrained(model_id_or_path, options.model)),
      tokenizer_(tu::load_tokenizer(model_, options)) {}

FillMaskPipeline::~FillMaskPipeline() = default;

std::vector<std::int64_t> FillMaskPipeline::target_ids(const std::vector<std::string>& targets) const {
  std::set<std::int64_t> ids;
  for (const auto& t : targets) {
    if (auto id = tu::token_to_id(*tokenizer_, t)) {
      ids.insert(*id);
      continue;
    }
    const auto sub = tu::encode_ids(*tokenizer_, t);
    if (sub.empty()) continue;  // transformers warns that the target does not exist in the vocabulary
    ids.insert(sub.front());    // transformers warns and uses the first sub-token
  }
  if (ids.empty()) throw InvalidArgument("fill-mask: At least one target must be provided when passed.");
  return {ids.begin(), ids.end()};
}

std::vector<std::vector<FillMaskPrediction>> FillMaskPipeline::operator()(const std::string& text,
                                                                          const FillMaskOptions& options) const {
  const auto mask_id = tokenizer_->mask_token_id();
  if (!mask_id) throw InvalidArgument("fill-mask: the tokenizer has no mask token");
  tokenizers::TokenizeOptions topts;
  auto encoding = (*tokenizer_)(std::vector<std::string>{text}, topts);
  const auto& enc = encoding.encodings.at(0);
  std::vector<std::size_t> masked;
  for (std::size_t i = 0; i < enc.ids.size(); ++i) {
    if (enc.ids[i] == *mask_id) masked.push_back(i);
  }
  if (masked.empty()) {
    throw InvalidArgument("fill-mask: No mask_token (" + tokenizer_->mask_token().value_or("") +
                          ") found on the input: '" + text + "'");
  }
  const auto tids = options.targets.empty() ? std::vector<std::int64_t>{} : target_ids(options.targets);
  std::size_t top_k = options.top_k;
  if (!tids.empty() && tids.size() < top_k) top_k = tids.size();

  auto out = model_.forward(tu::model_inputs(enc, model_));
  const Tensor& logits = out.logits;
  if (logits.rank() != 3)
    throw RuntimeError("fill-mask: logits must be [batch, seq, vocab], got " + shape_to_string(logits.shape()));
  const std::int64_t seq = logits.dim(1), vocab = logits.dim(2);
  std::vector<float> converted;  // only for non-float32 outputs
  if (logits.dtype() != DType::Float32) converted = logits.to_float_vector();
  const float* values = logits.dtype() == DType::Float32 ? logits.data<float>() : converted.data();
  const bool single_mask = masked.size() == 1;
  const auto pad_id = tokenizer_->pad_token_id();
  std::vector<std::vector<FillMaskPrediction>> result;
  for (const auto pos : masked) {
    if (static_cast<std::int64_t>(pos) >= seq) throw RuntimeError("fill-mask: logits shorter than the input");
    const auto top =
        top_k_tokens(std::span<const float>(values + pos * vocab, static_cast<std::size_t>(vocab)), top_k, tids);
    std::vector<FillMaskPrediction> row;
    for (const auto& [token, score] : top) {
      std::vector<std::int64_t> tokens;
      tokens.reserve(enc.ids.size());
      for (std::size_t i = 0; i < enc.ids.size(); ++i) {
        const auto id = i == pos ? token : enc.ids[i];
        if (pad_id && id == *pad_id) continue;
        tokens.push_back(id);
      }
      FillMaskPrediction p;
      p.score = score;
      p.token = token;
      p.sequence = tokenizer_->decode(tokens, /*skip_special_tokens=*/single_mask);
      const std::int64_t one[1] = {token};
      p.token_str = tokenizer_->decode(std::span<const std::int64_t>(one, 1), false);
      row.push_back(std::move(p));
    }
    result.push_back(std::move(row));
  }
  return result;
}

namespace {

Json predictions_json(const std::vector<FillMaskPrediction>& row) {
  Json out = Json::array();
  for (const auto& p : row) {
    out.push_back({{"score", p.score}, {"token", p.token}, {"token_str", p.token_str}, {"sequence", p.sequence}});
  }
  return out;
}

}  // namespace

Json FillMaskPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"top_k", "targets"}, task());
  FillMaskOptions opts;
  if (kwargs.is_object() && kwargs.contains("top_k") && !kwargs.at("top_k").is_null()) {
    const auto k = kwarg<std::int64_t>(kwargs, "top_k", 5);
    if (k < 0) throw InvalidArgument("fill-mask: top_k must be non-negative, got " + std::to_string(k));
    opts.top_k = static_cast<std::size_t>(k);
  }
  if (kwargs.is_object() && kwargs.contains("targets") && !kwargs.at("targets").is_null()) {
    const Json& t = kwargs.at("targets");
    if (t.is_string()) {
      opts.targets = {t.get<std::string>()};
    } else {
      opts.targets = kwarg<std::vector<std::string>>(kwargs, "targets", {});
    }
    if (opts.targets.empty()) throw InvalidArgument("fill-mask: At least one target must be provided when passed.");
  }
  auto one = [&](const Json& item) -> Json {
    if (!item.is_string()) throw InvalidArgument("fill-mask: an input must be a string, got " + item.dump());
    const auto rows = (*this)(item.get<std::string>(), opts);
    if (rows.size() == 1) return predictions_json(rows[0]);
    Json out = Json::array();
    for (const auto& r : rows) out.push_back(predictions_json(r));
    return out;
  };
  return map_inputs(input, one);
}

ORTFORMERS_REGISTER_PIPELINE("fill-mask", make_pipeline<FillMaskPipeline>);

}  // namespace ortformers::pipelines
