#include "ortformers/models/semantic_segmentation.hpp"

namespace ortformers::models {

ORTModelForSemanticSegmentation ORTModelForSemanticSegmentation::from_pretrained(const std::string& model_id_or_path,
                                                                                 const ModelOptions& options) {
  ORTModelForSemanticSegmentation model;
  model.load(model_id_or_path, options, "semantic-segmentation");
  return model;
}

SemanticSegmenterOutput ORTModelForSemanticSegmentation::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  SemanticSegmenterOutput out;
  out.logits = take_output(outputs, "logits");
  return out;
}

}  // namespace ortformers::models
