#pragma once
// optimum's ORTModelForImageToImage (Swin2SR super-resolution): pixel_values -> reconstruction.
// from_pretrained loads an ONNX folder (or exports a checkpoint with options.export_model); forward runs the graph
// on a batch.
#include <span>
#include <string>

#include "ortformers/models/ort_model.hpp"

namespace ortformers::models {

struct ImageSuperResolutionOutput {
  Tensor reconstruction;  // [batch, 3, H * upscale, W * upscale]
};

class ORTModelForImageToImage : public ORTModel {
 public:
  static ORTModelForImageToImage from_pretrained(const std::string& model_id_or_path, const ModelOptions& options = {});
  // pixel_values [batch, 3, H, W].
  ImageSuperResolutionOutput forward(const TensorMap& inputs) const;
  ImageSuperResolutionOutput forward(const Tensor& pixel_values) const {
    return forward(TensorMap{{"pixel_values", pixel_values}});
  }
  ImageSuperResolutionOutput operator()(const TensorMap& inputs) const { return forward(inputs); }
};

}  // namespace ortformers::models
