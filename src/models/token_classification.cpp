#include "ortformers/models/token_classification.hpp"

namespace ortformers::models {

ORTModelForTokenClassification ORTModelForTokenClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  ORTModelForTokenClassification model;
  model.load(model_id_or_path, options, "token-classification");
  return model;
}

TokenClassifierOutput ORTModelForTokenClassification::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  TokenClassifierOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
