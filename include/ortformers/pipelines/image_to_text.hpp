#pragma once
// pipeline("image-to-text"): transformers 4.31's ImageToTextPipeline on ORTModelForVision2Seq (VisionEncoderDecoder,
// e.g. ViT + GPT-2 captioning, TrOCR) or ORTModelForPix2Struct. Each image is processed (ViTImageProcessor-style
// ImageProcessor, or Pix2StructImageProcessor), generated with every generate() kwarg from the folder's
// generation_config.json, and decoded with skip_special_tokens: [{"generated_text": ...}] per image.
// 4.31 behaviours kept: `prompt` raises for vision-encoder-decoder models and is Pix2Struct's header_text (which only
// VQA processors use); a list of images with batch_size > 1 needs a tokenizer pad token (ValueError otherwise) and
// decodes every generated token separately (a list of one-token texts per image, the decoder start token included).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/models/vision2seq.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/image.hpp"

namespace ortformers::tokenizers {
class PreTrainedTokenizer;
}
namespace ortformers::preprocessing {
class ImageProcessor;
class Pix2StructImageProcessor;
}  // namespace ortformers::preprocessing

namespace ortformers::pipelines {

struct ImageToTextOptions {
  std::optional<std::string> prompt;      // Pix2Struct header_text; an error for vision-encoder-decoder models
  Json generate_kwargs = Json::object();  // every generate() kwarg (max_new_tokens, num_beams, ...)
  std::size_t batch_size = 1;             // images per generate() call (lists only)
};

class ImageToTextPipeline : public Pipeline {
 public:
  explicit ImageToTextPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  ~ImageToTextPipeline() override;

  // One image: [{"generated_text": ...}] (one record per returned sequence).
  Json operator()(const preprocessing::Image& image, const ImageToTextOptions& options = {}) const;
  // Several images: one result per image, batched by options.batch_size (see the header comment for batch > 1).
  std::vector<Json> operator()(const std::vector<preprocessing::Image>& images,
                               const ImageToTextOptions& options = {}) const;

  // The pipeline's keyword arguments (4.31 _sanitize_parameters: max_new_tokens, generate_kwargs, prompt;
  // batch_size; timeout accepted) as options; ValueError texts as InvalidArgument.
  ImageToTextOptions parse_kwargs(const Json& kwargs) const;
  // The model inputs of a batch of images (pixel_values, or flattened_patches + attention_mask).
  TensorMap preprocess(const std::vector<preprocessing::Image>& images, const ImageToTextOptions& options = {}) const;

  std::string task() const override { return "image-to-text"; }
  // input: an image path ({"image": path}) or a list of them (a list of results back).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return *model_; }
  const models::ORTModelForConditionalGeneration& generative_model() const { return *model_; }
  const tokenizers::PreTrainedTokenizer& tokenizer() const { return *tokenizer_; }
  const generation::GenerationConfig& generation_config() const { return generation_config_; }
  bool is_pix2struct() const noexcept { return pix2struct_ != nullptr; }

 private:
  std::unique_ptr<models::ORTModelForConditionalGeneration> model_;
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer_;
  std::unique_ptr<preprocessing::ImageProcessor> image_processor_;
  std::unique_ptr<preprocessing::Pix2StructImageProcessor> pix2struct_;
  generation::GenerationConfig generation_config_;
  std::string model_type_;
};

}  // namespace ortformers::pipelines
