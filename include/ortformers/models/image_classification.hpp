#pragma once
// optimum's ORTModelForImageClassification: pixel_values -> logits [batch, num_labels].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model); forward runs the graph
// on a batch.
#include <span>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct ImageClassifierOutput {
  Tensor logits;  // [batch, num_labels]
};

class ORTModelForImageClassification : public ORTModel {
 public:
  static ORTModelForImageClassification from_pretrained(const std::string& model_id_or_path,
                                                        const ModelOptions& options = {});
  // pixel_values [batch, 3, H, W].
  ImageClassifierOutput forward(const TensorMap& inputs) const;
  ImageClassifierOutput forward(const Tensor& pixel_values) const {
    return forward(TensorMap{{"pixel_values", pixel_values}});
  }
  ImageClassifierOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
