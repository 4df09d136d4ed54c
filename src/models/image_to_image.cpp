#include "ortformers/models/image_to_image.hpp"

namespace ortformers::models {

ORTModelForImageToImage ORTModelForImageToImage::from_pretrained(const std::string& model_id_or_path,
                                                                 const ModelOptions& options) {
  return load_pretrained<ORTModelForImageToImage>(model_id_or_path, options, "image-to-image");
}

ImageSuperResolutionOutput ORTModelForImageToImage::forward(const TensorMap& inputs) const {
  return {take_output(run(inputs), "reconstruction")};
}

}  // namespace ortformers::models
