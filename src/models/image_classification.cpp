#include "ortformers/models/image_classification.hpp"

namespace ortformers::models {

ORTModelForImageClassification ORTModelForImageClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  return load_pretrained<ORTModelForImageClassification>(model_id_or_path, options, "image-classification");
}

ImageClassifierOutput ORTModelForImageClassification::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

}  // namespace ortformers::models
