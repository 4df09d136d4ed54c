#include "ortformers/models/image_classification.hpp"

namespace ortformers::models {

ORTModelForImageClassification ORTModelForImageClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  ORTModelForImageClassification model;
  model.load(model_id_or_path, options, "image-classification");
  return model;
}

ImageClassifierOutput ORTModelForImageClassification::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  ImageClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
