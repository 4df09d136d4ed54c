#pragma once
// optimum's ORTModelForSemanticSegmentation: pixel_values -> logits [batch, num_labels, h, w].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model); forward runs the graph
// on a batch.
#include <span>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct SemanticSegmenterOutput {
  Tensor logits;  // [batch, num_labels, h, w] (h, w as the graph returns them, e.g. 1/4 of the input for SegFormer)
};

class ORTModelForSemanticSegmentation : public ORTModel {
 public:
  static ORTModelForSemanticSegmentation from_pretrained(const std::string& model_id_or_path,
                                                         const ModelOptions& options = {});
  // pixel_values [batch, 3, H, W].
  SemanticSegmenterOutput forward(const TensorMap& inputs) const;
  SemanticSegmenterOutput forward(const Tensor& pixel_values) const {
    return forward(TensorMap{{"pixel_values", pixel_values}});
  }
  SemanticSegmenterOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
