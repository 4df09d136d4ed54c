#include "generate_images.hpp"

#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "ortformers/preprocessing/pix2struct_image_processor.hpp"

namespace ortformers::cli {

namespace fs = std::filesystem;

namespace {

std::string model_type_of(const std::string& model) {
  for (const fs::path& dir : {fs::path(model), fs::path(model) / "onnx"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "config.json", ec)) {
      const Json cfg = read_json_file(dir / "config.json");
      return cfg.is_object() ? cfg.value("model_type", std::string()) : std::string();
    }
  }
  return {};
}

}  // namespace

bool is_image_to_text_folder(const std::string& model) {
  const std::string type = model_type_of(model);
  return type == "vision-encoder-decoder" || type == "pix2struct";
}

std::shared_ptr<const models::ORTModelForConditionalGeneration> load_image_to_text(
    const std::string& model, const models::ModelOptions& options) {
  models::Vision2SeqOptions o;
  o.base = options;
  if (model_type_of(model) == "pix2struct")
    return std::make_shared<models::ORTModelForPix2Struct>(models::ORTModelForPix2Struct::from_pretrained(model, o));
  return std::make_shared<models::ORTModelForVision2Seq>(models::ORTModelForVision2Seq::from_pretrained(model, o));
}

TensorMap image_inputs(const Json& images, const fs::path& model_dir, const std::string& where) {
  std::vector<std::string> paths;
  if (images.is_string()) {
    paths.push_back(images.get<std::string>());
  } else if (images.is_array() && !images.empty() &&
             std::all_of(images.begin(), images.end(), [](const Json& x) { return x.is_string(); })) {
    paths = images.get<std::vector<std::string>>();
  } else {
    throw InvalidArgument(where + "`images` must be an image file path or a non-empty list of them");
  }
  std::vector<preprocessing::Image> decoded;
  for (const auto& p : paths) decoded.push_back(preprocessing::load_image(p));
  const fs::path config = model_dir / "preprocessor_config.json";
  if (!fs::exists(config)) throw NotFoundError(where + "no preprocessor_config.json in " + model_dir.string());
  if (preprocessing::Pix2StructImageProcessor::describes(read_json_file(config))) {
    const auto out = preprocessing::Pix2StructImageProcessor::from_pretrained(config)(decoded);
    return {{"flattened_patches", out.flattened_patches}, {"attention_mask", out.attention_mask}};
  }
  return {{"pixel_values", preprocessing::ImageProcessor::from_pretrained(config)(decoded)}};
}

}  // namespace ortformers::cli
