#pragma once
// optimum's ORTModelForTokenClassification: logits [batch, seq, num_labels].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model), forward runs the graph.
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct TokenClassifierOutput {
  Tensor logits;  // [batch, seq, num_labels]
};

class ORTModelForTokenClassification : public ORTModel {
 public:
  static ORTModelForTokenClassification from_pretrained(const std::string& model_id_or_path,
                                                        const ModelOptions& options = {});
  // input_ids, attention_mask (+ token_type_ids, filled with zeros when the graph takes it and it is omitted).
  TokenClassifierOutput forward(const TensorMap& inputs) const;
  TokenClassifierOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
