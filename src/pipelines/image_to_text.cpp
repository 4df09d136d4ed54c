#include "ortformers/pipelines/image_to_text.hpp"

#include <algorithm>
#include <filesystem>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "ortformers/preprocessing/inputs.hpp"
#include "ortformers/preprocessing/pix2struct_image_processor.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "text_utils.hpp"

namespace ortformers::pipelines {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTask = "image-to-text";

// config.json's model_type of a local folder (or its onnx/ subfolder), "" when there is none to read.
std::string local_model_type(const std::string& model_id_or_path) {
  for (const fs::path& dir : {fs::path(model_id_or_path), fs::path(model_id_or_path) / "onnx"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "config.json", ec)) {
      const Json j = read_json_file(dir / "config.json");
      return j.is_object() ? j.value("model_type", std::string()) : std::string();
    }
  }
  return {};
}

std::unique_ptr<models::ORTModelForConditionalGeneration> load_model(const std::string& model_id_or_path,
                                                                     const PipelineOptions& options) {
  models::Vision2SeqOptions o;
  o.base = options.model;
  const std::string type = local_model_type(model_id_or_path);
  if (type == "pix2struct")
    return std::make_unique<models::ORTModelForPix2Struct>(
        models::ORTModelForPix2Struct::from_pretrained(model_id_or_path, o));
  if (!type.empty())
    return std::make_unique<models::ORTModelForVision2Seq>(
        models::ORTModelForVision2Seq::from_pretrained(model_id_or_path, o));
  // A Hub id: the config is known after resolution; a Pix2Struct encoder has no pixel_values input.
  try {
    return std::make_unique<models::ORTModelForVision2Seq>(
        models::ORTModelForVision2Seq::from_pretrained(model_id_or_path, o));
  } catch (const UnsupportedError& e) {
    if (std::string(e.what()).find("'pixel_values'") == std::string::npos) throw;
    return std::make_unique<models::ORTModelForPix2Struct>(
        models::ORTModelForPix2Struct::from_pretrained(model_id_or_path, o));
  }
}

Json records(const tokenizers::PreTrainedTokenizer& tokenizer, const Tensor& sequences, std::int64_t first,
             std::int64_t count) {
  Json out = Json::array();
  const auto width = sequences.dim(1);
  const auto all = sequences.span<std::int64_t>();
  for (std::int64_t r = first; r < first + count; ++r) {
    out.push_back(
        {{"generated_text",
          tokenizer.decode(all.subspan(static_cast<std::size_t>(r * width), static_cast<std::size_t>(width)), true)}});
  }
  return out;
}

}  // namespace

ImageToTextPipeline::ImageToTextPipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : model_(load_model(model_id_or_path, options)),
      tokenizer_(text_utils::load_tokenizer(*model_, options)),
      generation_config_(generation::GenerationConfig::from_pretrained(model_->model_dir())) {
  model_type_ = model_->config().model_type();
  if (dynamic_cast<const models::ORTModelForPix2Struct*>(model_.get())) {
    pix2struct_ = std::make_unique<preprocessing::Pix2StructImageProcessor>(
        preprocessing::Pix2StructImageProcessor::from_pretrained(model_->model_dir()));
  } else {
    image_processor_ = std::make_unique<preprocessing::ImageProcessor>(
        preprocessing::ImageProcessor::from_pretrained(model_->model_dir()));
  }
}

ImageToTextPipeline::~ImageToTextPipeline() = default;

ImageToTextOptions ImageToTextPipeline::parse_kwargs(const Json& kwargs) const {
  if (!kwargs.is_null() && !kwargs.is_object())
    throw InvalidArgument(std::string(kTask) + ": keyword arguments must be a JSON object, got " + kwargs.dump());
  const Json k = kwargs.is_null() ? Json::object() : kwargs;
  check_kwargs(k, {"max_new_tokens", "generate_kwargs", "prompt", "batch_size", "timeout", "num_workers"}, kTask);
  ImageToTextOptions o;
  auto has = [&](const char* key) { return k.contains(key) && !k.at(key).is_null(); };
  if (has("prompt")) {
    const Json& p = k.at("prompt");
    if (!p.is_string()) {
      throw InvalidArgument("Received an invalid text input, got - " + std::string(p.type_name()) +
                            " - but expected a single string. Note also that one single text can be provided for "
                            "conditional image to text generation.");
    }
    o.prompt = p.get<std::string>();
  }
  if (has("generate_kwargs")) {
    if (!k.at("generate_kwargs").is_object())
      throw InvalidArgument(std::string(kTask) + ": generate_kwargs must be an object, got " +
                            k.at("generate_kwargs").dump());
    o.generate_kwargs = k.at("generate_kwargs");
  }
  if (has("max_new_tokens")) {
    if (o.generate_kwargs.contains("max_new_tokens")) {
      throw InvalidArgument(
          "'max_new_tokens' is defined twice, once in 'generate_kwargs' and once as a direct parameter, please use "
          "only one");
    }
    o.generate_kwargs["max_new_tokens"] = k.at("max_new_tokens");
  }
  const auto batch = kwarg<long long>(k, "batch_size", 1);
  if (batch < 1) throw InvalidArgument(std::string(kTask) + ": batch_size must be >= 1, got " + std::to_string(batch));
  o.batch_size = static_cast<std::size_t>(batch);
  return o;
}

TensorMap ImageToTextPipeline::preprocess(const std::vector<preprocessing::Image>& images,
                                          const ImageToTextOptions& options) const {
  if (options.prompt && model_type_ != "pix2struct") {
    if (model_type_ == "vision-encoder-decoder" || !pix2struct_)
      throw InvalidArgument("Model type " + model_type_ + " does not support conditional text generation");
  }
  if (pix2struct_) {
    std::vector<std::string> header;
    if (options.prompt) header.assign(images.size(), *options.prompt);
    const auto out = (*pix2struct_)(images, std::nullopt, header);
    return {{"flattened_patches", out.flattened_patches}, {"attention_mask", out.attention_mask}};
  }
  return {{"pixel_values", (*image_processor_)(images)}};
}

Json ImageToTextPipeline::operator()(const preprocessing::Image& image, const ImageToTextOptions& options) const {
  generation::GenerationConfig config = generation_config_;
  const Json unused = config.update(options.generate_kwargs);
  if (!unused.empty()) throw InvalidArgument(std::string(kTask) + ": unknown generate() arguments " + unused.dump());
  const auto out = generation::generate(*model_, preprocess({image}, options), config);
  return records(*tokenizer_, out.sequences, 0, out.sequences.dim(0));
}

std::vector<Json> ImageToTextPipeline::operator()(const std::vector<preprocessing::Image>& images,
                                                  const ImageToTextOptions& options) const {
  std::vector<Json> results;
  if (options.batch_size <= 1) {
    for (const auto& image : images) results.push_back((*this)(image, options));
    return results;
  }
  // 4.31's pad_collate_fn: batching needs the tokenizer's pad token.
  if (!tokenizer_->pad_token_id()) {
    throw InvalidArgument(
        "Pipeline with tokenizer without pad_token cannot do batching. You can try to set it with "
        "`pipe.tokenizer.pad_token_id = model.config.eos_token_id`.");
  }
  generation::GenerationConfig config = generation_config_;
  const Json unused = config.update(options.generate_kwargs);
  if (!unused.empty()) throw InvalidArgument(std::string(kTask) + ": unknown generate() arguments " + unused.dump());
  for (std::size_t start = 0; start < images.size(); start += options.batch_size) {
    const std::vector<preprocessing::Image> chunk(
        images.begin() + static_cast<std::ptrdiff_t>(start),
        images.begin() + static_cast<std::ptrdiff_t>(std::min(images.size(), start + options.batch_size)));
    const auto out = generation::generate(*model_, preprocess(chunk, options), config);
    // 4.31 unbatches the generated ids into one 1-D tensor per image; postprocess then iterates over it and decodes
    // every token on its own (an int id is decoded without the special-token filter).
    const auto per_image = out.sequences.dim(0) / static_cast<std::int64_t>(chunk.size());
    const auto width = out.sequences.dim(1);
    const auto all = out.sequences.span<std::int64_t>();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if (per_image != 1) {
        // num_return_sequences > 1: each unbatched item is a [n, len] block, decoded row by row.
        results.push_back(records(*tokenizer_, out.sequences, static_cast<std::int64_t>(i) * per_image, per_image));
        continue;
      }
      Json tokens = Json::array();
      for (std::int64_t t = 0; t < width; ++t) {
        const std::int64_t id = all[static_cast<std::size_t>(static_cast<std::int64_t>(i) * width + t)];
        tokens.push_back({{"generated_text", tokenizer_->decode(std::span<const std::int64_t>(&id, 1), false)}});
      }
      results.push_back(std::move(tokens));
    }
  }
  return results;
}

Json ImageToTextPipeline::call(const Json& input, const Json& kwargs) {
  const ImageToTextOptions o = parse_kwargs(kwargs);
  if (input.is_array()) {
    std::vector<preprocessing::Image> images;
    for (const auto& item : input) images.push_back(preprocessing::image_from_json(item, "ImageToTextPipeline"));
    Json out = Json::array();
    for (auto& r : (*this)(images, o)) out.push_back(std::move(r));
    return out;
  }
  return (*this)(preprocessing::image_from_json(input, "ImageToTextPipeline"), o);
}

ORTFORMERS_REGISTER_PIPELINE("image-to-text", make_pipeline<ImageToTextPipeline>);

}  // namespace ortformers::pipelines
