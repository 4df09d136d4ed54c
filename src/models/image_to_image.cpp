#include "ortformers/models/image_to_image.hpp"

namespace ortformers::models {

ORTModelForImageToImage ORTModelForImageToImage::from_pretrained(const std::string& model_id_or_path,
                                                                 const ModelOptions& options) {
  ORTModelForImageToImage model;
  model.load(model_id_or_path, options, "image-to-image");
  return model;
}

ImageSuperResolutionOutput ORTModelForImageToImage::forward(const TensorMap& inputs) const {
  TensorMap outputs = run(inputs);
  ImageSuperResolutionOutput out;
  out.reconstruction = take_output(outputs, "reconstruction");
  return out;
}

}  // namespace ortformers::models
