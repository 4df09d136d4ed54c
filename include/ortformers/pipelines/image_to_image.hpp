#pragma once
// pipeline("image-to-image") (Swin2SR super-resolution): transformers' ImageToImagePipeline (added after 4.31).
// The output image is the model's reconstruction clamped to [0, 1], channels last, (x * 255).round() as uint8:
// its size is the processor's padded size times the upscale factor (nothing is cropped, as the real pipeline).
#include <memory>
#include <string>
#include <vector>

#include "ortformers/models/image_to_image.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"

namespace ortformers::pipelines {

// ImageToImagePipeline.postprocess for image `index` of a reconstruction [batch, 3, H, W].
preprocessing::Image reconstruction_to_image(const Tensor& reconstruction, std::int64_t index = 0);

class ImageToImagePipeline : public Pipeline {
 public:
  ImageToImagePipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  std::string task() const override { return "image-to-image"; }
  // input: an image path or a list of paths. The output image is written as PNG into output_dir
  // (<image stem>.image-to-image.png) and its path returned (a list of paths for a list input).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }

  preprocessing::Image operator()(const preprocessing::Image& image) const;

 private:
  models::ORTModelForImageToImage model_;
  preprocessing::ImageProcessor processor_;
  std::filesystem::path output_dir_;
};

}  // namespace ortformers::pipelines
