#include "ortformers/models/sequence_classification.hpp"

namespace ortformers::models {

ORTModelForSequenceClassification ORTModelForSequenceClassification::from_pretrained(
    const std::string& model_id_or_path, const ModelOptions& options) {
  ORTModelForSequenceClassification model;
  model.load(model_id_or_path, options, "text-classification");
  return model;
}

SequenceClassifierOutput ORTModelForSequenceClassification::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  SequenceClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
