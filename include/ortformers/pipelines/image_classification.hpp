#pragma once
// pipeline("image-classification"): transformers' ImageClassificationPipeline on an ORTModelForImageClassification.
#include <memory>
#include <string>
#include <vector>

#include "ortformers/models/image_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"

namespace ortformers::pipelines {

struct ImageClassificationOptions {
  int top_k = 5;  // capped at the number of labels
  // "" = default (sigmoid for multi_label_classification or a single label, else softmax), "softmax", "sigmoid",
  // "none". transformers 4.31 has no such argument; the semantics are those of later versions.
  std::string function_to_apply;
};

struct ImageClassificationResult {
  std::string label;
  double score = 0;
};

class ImageClassificationPipeline : public Pipeline {
 public:
  ImageClassificationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  std::string task() const override { return "image-classification"; }
  // input: an image path or a list of paths (a list gives a list of results). kwargs: top_k, function_to_apply,
  // timeout (accepted, unused).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }

  std::vector<ImageClassificationResult> operator()(const preprocessing::Image& image,
                                                    const ImageClassificationOptions& options = {}) const;
  // One forward pass over all images (they share the processor's output size).
  std::vector<std::vector<ImageClassificationResult>> operator()(const std::vector<preprocessing::Image>& images,
                                                                 const ImageClassificationOptions& options = {}) const;
  const preprocessing::ImageProcessor& image_processor() const noexcept { return processor_; }

 private:
  models::ORTModelForImageClassification model_;
  preprocessing::ImageProcessor processor_;
};

// Scores of one row of logits with function_to_apply ("softmax", "sigmoid", "none"), in float32 as torch.
std::vector<float> apply_classification_function(std::span<const float> logits, const std::string& function);
// top_k of (label, score), highest first (ties keep the lower label id first).
std::vector<std::pair<std::int64_t, float>> top_k_scores(std::span<const float> scores, int k);

}  // namespace ortformers::pipelines
