#pragma once
// `ortformers generate` for image-to-text folders (ORTModelForVision2Seq / ORTModelForPix2Struct): the model, and
// the encoder inputs of an input line's "images" (file paths, processed as pipeline("image-to-text") does).
#include <filesystem>
#include <memory>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/models/vision2seq.hpp"

namespace ortformers::cli {

// A local folder whose config.json model_type is vision-encoder-decoder or pix2struct.
bool is_image_to_text_folder(const std::string& model);
// ORTModelForPix2Struct for a pix2struct folder, else ORTModelForVision2Seq.
std::shared_ptr<const models::ORTModelForConditionalGeneration> load_image_to_text(const std::string& model,
                                                                                   const models::ModelOptions& options);
// "images": [path, ...] (or one path) -> pixel_values, or flattened_patches + attention_mask, with the folder's
// preprocessor_config.json. `where` prefixes errors.
TensorMap image_inputs(const Json& images, const std::filesystem::path& model_dir, const std::string& where);

}  // namespace ortformers::cli
