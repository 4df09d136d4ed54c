#pragma once
// ImageProcessor: transformers' image processors (ViTImageProcessor, SegformerImageProcessor, Swin2SRImageProcessor
// and the other "resize / center crop / rescale / normalize / pad" processors) driven by preprocessor_config.json.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/preprocessing/image.hpp"

namespace ortformers::preprocessing {

struct ImageProcessorConfig {
  std::string image_processor_type;  // "ViTImageProcessor", "SegformerImageProcessor", "Swin2SRImageProcessor", ...
  bool do_resize = false;
  // size: {"height","width"} (exact size), or {"shortest_edge"} (aspect kept, as get_resize_output_image_size).
  std::optional<int> size_height, size_width, size_shortest_edge;
  Resample resample = Resample::Bilinear;
  bool do_center_crop = false;
  std::optional<int> crop_height, crop_width;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = false;
  std::vector<float> image_mean{0.5f, 0.5f, 0.5f};
  std::vector<float> image_std{0.5f, 0.5f, 0.5f};
  // ConvNextImageProcessor: with size.shortest_edge below 384 the shorter side is resized to
  // int(shortest_edge / crop_pct) (aspect kept), then center-cropped to shortest_edge²; at 384 or more the image is
  // resized to shortest_edge² directly. Set for ConvNext processors only (crop_pct defaults to 224 / 256).
  std::optional<double> crop_pct;
  bool do_pad = false;  // Swin2SR: pad bottom/right (symmetric) to the next multiple of pad_size, always adding
  int pad_size = 8;

  // From preprocessor_config.json. FileFormatError naming the field for a wrong type or value.
  static ImageProcessorConfig from_json(const Json& j, const std::string& source = "preprocessor_config.json");
};

class ImageProcessor {
 public:
  ImageProcessor() = default;
  explicit ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {}
  // <dir>/preprocessor_config.json (or the file itself).
  static ImageProcessor from_pretrained(const std::filesystem::path& dir_or_file);

  const ImageProcessorConfig& config() const noexcept { return config_; }

  // One image → float32 [3, H, W] values (resize → center crop → rescale → normalize → pad), as the processor.
  std::vector<float> preprocess_one(const Image& image, int* out_height, int* out_width) const;
  // Images → pixel_values [N, 3, H, W]. InvalidArgument when the images give different sizes (Swin2SR pads
  // each image to its own size: call it one image at a time).
  Tensor operator()(const std::vector<Image>& images) const;
  Tensor operator()(const Image& image) const { return (*this)(std::vector<Image>{image}); }

 private:
  ImageProcessorConfig config_;
};

// numpy's np.pad(mode="symmetric") index for position i of a padded axis of original length n.
int symmetric_index(long long i, int n);

}  // namespace ortformers::preprocessing
