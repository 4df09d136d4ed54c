#include "ortformers/models/semantic_segmentation.hpp"

namespace ortformers::models {

ORTModelForSemanticSegmentation ORTModelForSemanticSegmentation::from_pretrained(const std::string& model_id_or_path,
                                                                                 const ModelOptions& options) {
  return load_pretrained<ORTModelForSemanticSegmentation>(model_id_or_path, options, "semantic-segmentation");
}

SemanticSegmenterOutput ORTModelForSemanticSegmentation::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "logits")};
}

}  // namespace ortformers::models
