#pragma once
// optimum's ORTModelForQuestionAnswering: start_logits / end_logits [batch, seq].
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model), forward runs the graph.
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct QuestionAnsweringModelOutput {
  Tensor start_logits;  // [batch, seq]
  Tensor end_logits;    // [batch, seq]
};

class ORTModelForQuestionAnswering : public ORTModel {
 public:
  static ORTModelForQuestionAnswering from_pretrained(const std::string& model_id_or_path,
                                                      const ModelOptions& options = {});
  // input_ids, attention_mask (+ token_type_ids, filled with zeros when the graph takes it and it is omitted).
  QuestionAnsweringModelOutput forward(const TensorMap& inputs) const;
  QuestionAnsweringModelOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
