#include "ortformers/pipelines/image_to_image.hpp"

#include <algorithm>
#include <cmath>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/inputs.hpp"

namespace ortformers::pipelines {

preprocessing::Image reconstruction_to_image(const Tensor& rec, std::int64_t index) {
  if (rec.rank() != 4 || rec.dim(1) != 3)
    throw RuntimeError("image-to-image: reconstruction must be [batch, 3, H, W], got " + shape_to_string(rec.shape()));
  if (index < 0 || index >= rec.dim(0)) throw InvalidArgument("image-to-image: batch index out of range");
  const auto H = rec.dim(2), W = rec.dim(3);
  const auto v = rec.to_float_vector();
  const float* base = v.data() + index * 3 * H * W;
  preprocessing::Image img{static_cast<int>(W), static_cast<int>(H), 3,
                           std::vector<std::uint8_t>(static_cast<std::size_t>(H * W * 3))};
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t i = 0; i < H * W; ++i) {
      float x = base[c * H * W + i];
      x = std::isnan(x) ? x : std::min(std::max(x, 0.0f), 1.0f);
      // (x * 255.0).round().astype(np.uint8): float32 product, round half to even.
      const float r = std::nearbyint(x * 255.0f);
      img.pixels[static_cast<std::size_t>(i * 3 + c)] = std::isnan(r) ? 0 : static_cast<std::uint8_t>(r);
    }
  return img;
}

ImageToImagePipeline::ImageToImagePipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : model_(models::ORTModelForImageToImage::from_pretrained(model_id_or_path, options.model)),
      processor_(preprocessing::ImageProcessor::from_pretrained(model_.model_dir())),
      output_dir_(options.output_dir) {}

preprocessing::Image ImageToImagePipeline::operator()(const preprocessing::Image& image) const {
  return reconstruction_to_image(model_.forward(processor_(image)).reconstruction.to(DType::Float32), 0);
}

Json ImageToImagePipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"timeout"}, task());
  auto one = [&](const Json& in) {
    const auto out = (*this)(preprocessing::image_from_json(in, "ImageToImagePipeline"));
    std::string stem = std::filesystem::path(preprocessing::image_path_of(in)).stem().string();
    if (stem.empty()) stem = "image";
    std::filesystem::create_directories(output_dir_);
    const auto file = output_dir_ / (stem + ".image-to-image.png");
    preprocessing::save_png(out, file);
    return Json(file.string());
  };
  return map_inputs(input, one);
}

ORTFORMERS_REGISTER_PIPELINE("image-to-image", make_pipeline<ImageToImagePipeline>);

}  // namespace ortformers::pipelines
