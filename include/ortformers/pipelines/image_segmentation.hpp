#pragma once
// pipeline("image-segmentation") for semantic-segmentation models (SegFormer): transformers'
// ImageSegmentationPipeline with subtask "semantic": one mask (mode L, 0/255, size of the input image) per label
// present, score null.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/models/semantic_segmentation.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"

namespace ortformers::pipelines {

struct SegmentationMask {
  std::optional<double> score;  // null for semantic segmentation
  std::string label;
  preprocessing::Image mask;  // 1 channel, 0 or 255
};

// image_processor.post_process_semantic_segmentation for one image: logits [labels, h, w] upsampled bilinearly
// (torch interpolate, align_corners=False) to height x width, then argmax over labels (first maximum wins).
std::vector<std::int64_t> semantic_segmentation_map(const Tensor& logits, std::int64_t index, int height, int width);

class ImageSegmentationPipeline : public Pipeline {
 public:
  ImageSegmentationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  std::string task() const override { return "image-segmentation"; }
  // input: an image path or a list of paths. kwargs: subtask ("semantic" or null; "instance"/"panoptic" are
  // refused as transformers does for models without them), threshold, mask_threshold,
  // overlap_mask_area_threshold (unused by semantic segmentation). Masks are written as PNG files into
  // output_dir (<image stem>.<label>.png) and "mask" holds the path.
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }

  std::vector<SegmentationMask> operator()(const preprocessing::Image& image) const;
  std::vector<std::vector<SegmentationMask>> operator()(const std::vector<preprocessing::Image>& images) const;

 private:
  models::ORTModelForSemanticSegmentation model_;
  preprocessing::ImageProcessor processor_;
  std::filesystem::path output_dir_;
};

}  // namespace ortformers::pipelines
