#include "ortformers/pipelines/image_classification.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/inputs.hpp"

namespace ortformers::pipelines {

std::vector<float> apply_classification_function(std::span<const float> logits, const std::string& function) {
  std::vector<float> out(logits.begin(), logits.end());
  if (function == "none") return out;
  if (function == "sigmoid") {
    for (float& v : out) v = 1.0f / (1.0f + std::exp(-v));
    return out;
  }
  if (function != "softmax")
    throw InvalidArgument("function_to_apply must be 'softmax', 'sigmoid' or 'none', got '" + function + "'");
  if (out.empty()) return out;
  const float m = *std::max_element(out.begin(), out.end());
  float sum = 0.0f;
  for (float& v : out) {
    v = std::exp(v - m);
    sum += v;
  }
  for (float& v : out) v /= sum;
  return out;
}

std::vector<std::pair<std::int64_t, float>> top_k_scores(std::span<const float> scores, int k) {
  std::vector<std::pair<std::int64_t, float>> all;
  for (std::size_t i = 0; i < scores.size(); ++i) all.emplace_back(static_cast<std::int64_t>(i), scores[i]);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (k >= 0 && static_cast<std::size_t>(k) < all.size()) all.resize(static_cast<std::size_t>(k));
  return all;
}

ImageClassificationPipeline::ImageClassificationPipeline(const std::string& model_id_or_path,
                                                         const PipelineOptions& options)
    : model_(models::ORTModelForImageClassification::from_pretrained(model_id_or_path, options.model)),
      processor_(preprocessing::ImageProcessor::from_pretrained(model_.model_dir())) {}

std::vector<std::vector<ImageClassificationResult>> ImageClassificationPipeline::operator()(
    const std::vector<preprocessing::Image>& images, const ImageClassificationOptions& options) const {
  if (options.top_k <= 0) throw InvalidArgument("image-classification: top_k must be positive");
  std::string fn = options.function_to_apply;
  const auto& cfg = model_.config();
  if (fn.empty())
    fn = (cfg.problem_type() == "multi_label_classification" || cfg.num_labels() == 1) ? "sigmoid" : "softmax";
  const Tensor logits = model_.forward(processor_(images)).logits;
  if (logits.rank() != 2) throw RuntimeError("image-classification: logits must be [batch, labels]");
  const auto v = logits.to_float_vector();
  const auto L = static_cast<std::size_t>(logits.dim(1));
  std::vector<std::vector<ImageClassificationResult>> out;
  for (std::size_t b = 0; b < images.size(); ++b) {
    const auto scores = apply_classification_function(std::span<const float>(v.data() + b * L, L), fn);
    std::vector<ImageClassificationResult> res;
    for (const auto& [id, s] : top_k_scores(scores, options.top_k)) {
      auto it = cfg.id2label().find(id);
      res.push_back({it != cfg.id2label().end() ? it->second : "LABEL_" + std::to_string(id), s});
    }
    out.push_back(std::move(res));
  }
  return out;
}

std::vector<ImageClassificationResult> ImageClassificationPipeline::operator()(
    const preprocessing::Image& image, const ImageClassificationOptions& options) const {
  return (*this)(std::vector<preprocessing::Image>{image}, options).front();
}

Json ImageClassificationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"top_k", "function_to_apply", "timeout"}, task());
  ImageClassificationOptions o;
  o.top_k = kwarg<int>(kwargs, "top_k", 5);
  o.function_to_apply = kwarg<std::string>(kwargs, "function_to_apply", "");
  auto to_json = [](const std::vector<ImageClassificationResult>& r) {
    Json arr = Json::array();
    for (const auto& x : r) arr.push_back({{"score", x.score}, {"label", x.label}});
    return arr;
  };
  return map_inputs(input, [&](const Json& item) {
    return to_json((*this)(preprocessing::image_from_json(item, "ImageClassificationPipeline"), o));
  });
}

ORTFORMERS_REGISTER_PIPELINE("image-classification", make_pipeline<ImageClassificationPipeline>);

}  // namespace ortformers::pipelines
