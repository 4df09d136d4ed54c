#pragma once
// Pix2StructImageProcessor (transformers 4.31): per-image standardisation, an aspect-preserving resize to the largest
// grid of patches that fits `max_patches`, patch extraction with 1-based row / column ids, zero padding to
// max_patches rows; driven by preprocessor_config.json.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/preprocessing/image.hpp"

namespace ortformers::preprocessing {

struct Pix2StructImageProcessorConfig {
  bool do_convert_rgb = true;  // images are RGB after load_image already
  bool do_normalize = true;
  int max_patches = 2048;
  int patch_height = 16;
  int patch_width = 16;
  bool is_vqa = false;

  // From preprocessor_config.json. FileFormatError naming the field for a wrong type or value.
  static Pix2StructImageProcessorConfig from_json(const Json& j,
                                                  const std::string& source = "preprocessor_config.json");
};

// What the processor returns: flattened_patches float32 [N, max_patches, 2 + patch_h * patch_w * 3] (row id,
// column id, then the patch's pixels in (y, x, channel) order) and attention_mask float32 [N, max_patches]
// (1 on real patches). The ONNX graphs take the mask as int64: convert at the model.
struct Pix2StructInputs {
  Tensor flattened_patches;
  Tensor attention_mask;
};

class Pix2StructImageProcessor {
 public:
  Pix2StructImageProcessor() = default;
  explicit Pix2StructImageProcessor(Pix2StructImageProcessorConfig config) : config_(std::move(config)) {}
  // <dir>/preprocessor_config.json (or the file itself); FileFormatError when it is not a Pix2Struct processor.
  static Pix2StructImageProcessor from_pretrained(const std::filesystem::path& dir_or_file);
  // True when the preprocessor_config.json object describes a Pix2StructImageProcessor.
  static bool describes(const Json& preprocessor_config);

  const Pix2StructImageProcessorConfig& config() const noexcept { return config_; }

  // One image → [max_patches, 2 + patch_h * patch_w * 3] floats; `real_patches` receives the number of rows that
  // are image patches (the rest are zeros).
  std::vector<float> extract_flattened_patches(const Image& image, int max_patches, int* real_patches = nullptr) const;

  // The processor call. `max_patches` overrides the config's. VQA processors (is_vqa) render `header_text` above
  // the image with a font transformers downloads from the Hub; that is not supported here (InvalidArgument), and a
  // VQA call without header_text raises transformers' ValueError text.
  Pix2StructInputs operator()(const std::vector<Image>& images, std::optional<int> max_patches = std::nullopt,
                              const std::vector<std::string>& header_text = {}) const;

 private:
  Pix2StructImageProcessorConfig config_;
};

}  // namespace ortformers::preprocessing
