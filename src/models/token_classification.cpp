#include "ortformers/models/token_classification.hpp"

namespace ortformers::models {

ORTModelForTokenClassification ORTModelForTokenClassification::from_pretrained(const std::string& model_id_or_path,
                                                                               const ModelOptions& options) {
  return load_pretrained<ORTModelForTokenClassification>(model_id_or_path, options, "token-classification");
}

TokenClassifierOutput ORTModelForTokenClassification::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

}  // namespace ortformers::models
