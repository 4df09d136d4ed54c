#include "ortformers/models/sequence_classification.hpp"

namespace ortformers::models {

ORTModelForSequenceClassification ORTModelForSequenceClassification::from_pretrained(
    const std::string& model_id_or_path, const ModelOptions& options) {
  return load_pretrained<ORTModelForSequenceClassification>(model_id_or_path, options, "text-classification");
}

SequenceClassifierOutput ORTModelForSequenceClassification::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

}  // namespace ortformers::models
