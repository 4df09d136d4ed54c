#include "ortformers/pipelines/image_segmentation.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/inputs.hpp"

namespace ortformers::pipelines {

namespace {

struct LinearIndex {
  int i0, i1;
  float l0, l1;
};

// torch's upsample_bilinear2d source index (align_corners=False, no scale factor given), in float32.
std::vector<LinearIndex> linear_indices(int in, int out) {
  std::vector<LinearIndex> r(static_cast<std::size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int d = 0; d < out; ++d) {
    float src = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    const int i0 = static_cast<int>(src);
    const int i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const float l1 = src - static_cast<float>(i0);
    r[static_cast<std::size_t>(d)] = {i0, i1, 1.0f - l1, l1};
  }
  return r;
}

std::string safe_file_part(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s.empty() ? "_" : s;
}

}  // namespace

std::vector<std::int64_t> semantic_segmentation_map(const Tensor& logits, std::int64_t index, int height, int width) {
  if (logits.rank() != 4) throw RuntimeError("semantic segmentation: logits must be [batch, labels, h, w]");
  if (height <= 0 || width <= 0) throw InvalidArgument("semantic segmentation: target size must be positive");
  const std::int64_t L = logits.dim(1), h = logits.dim(2), w = logits.dim(3);
  if (index < 0 || index >= logits.dim(0)) throw InvalidArgument("semantic segmentation: batch index out of range");
  const float* base = logits.data<float>() + index * L * h * w;
  const auto ys = linear_indices(static_cast<int>(h), height);
  const auto xs = linear_indices(static_cast<int>(w), width);
  std::vector<std::int64_t> map(static_cast<std::size_t>(height) * width);
  for (int y = 0; y < height; ++y) {
    const auto& yi = ys[static_cast<std::size_t>(y)];
    for (int x = 0; x < width; ++x) {
      const auto& xi = xs[static_cast<std::size_t>(x)];
      std::int64_t best = 0;
      float best_v = -INFINITY;
      for (std::int64_t l = 0; l < L; ++l) {
        const float* p = base + l * h * w;
        const float v = yi.l0 * (xi.l0 * p[yi.i0 * w + xi.i0] + xi.l1 * p[yi.i0 * w + xi.i1]) +
                        yi.l1 * (xi.l0 * p[yi.i1 * w + xi.i0] + xi.l1 * p[yi.i1 * w + xi.i1]);
        if (v > best_v || l == 0) {
          best_v = v;
          best = l;
        }
      }
      map[static_cast<std::size_t>(y) * width + x] = best;
    }
  }
  return map;
}

ImageSegmentationPipeline::ImageSegmentationPipeline(const std::string& model_id_or_path,
                                                     const PipelineOptions& options)
    : model_(models::ORTModelForSemanticSegmentation::from_pretrained(model_id_or_path, options.model)),
      processor_(preprocessing::ImageProcessor::from_pretrained(model_.model_dir())),
      output_dir_(options.output_dir) {}

std::vector<std::vector<SegmentationMask>> ImageSegmentationPipeline::operator()(
    const std::vector<preprocessing::Image>& images) const {
  const Tensor logits = model_.forward(processor_(images)).logits.to(DType::Float32);
  std::vector<std::vector<SegmentationMask>> out;
  const auto& id2label = model_.config().id2label();
  for (std::size_t b = 0; b < images.size(); ++b) {
    const auto& img = images[b];
    const auto map = semantic_segmentation_map(logits, static_cast<std::int64_t>(b), img.height, img.width);
    const std::set<std::int64_t> labels(map.begin(), map.end());  // np.unique: sorted
    std::vector<SegmentationMask> masks;
    for (auto l : labels) {
      SegmentationMask m;
      auto it = id2label.find(l);
      m.label = it != id2label.end() ? it->second : "LABEL_" + std::to_string(l);
      m.mask = preprocessing::Image{img.width, img.height, 1, std::vector<std::uint8_t>(map.size())};
      for (std::size_t i = 0; i < map.size(); ++i) m.mask.pixels[i] = map[i] == l ? 255 : 0;
      masks.push_back(std::move(m));
    }
    out.push_back(std::move(masks));
  }
  return out;
}

std::vector<SegmentationMask> ImageSegmentationPipeline::operator()(const preprocessing::Image& image) const {
  return (*this)(std::vector<preprocessing::Image>{image}).front();
}

Json ImageSegmentationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"subtask", "threshold", "mask_threshold", "overlap_mask_area_threshold", "timeout"}, task());
  const std::string subtask = kwarg<std::string>(kwargs, "subtask", "semantic");
  if (subtask != "semantic")
    throw InvalidArgument("Subtask " + subtask + " is not supported for model " +
                          (model_.config().architectures().empty() ? model_.config().model_type()
                                                                   : model_.config().architectures().front()) +
                          " (semantic segmentation only)");
  auto one = [&](const Json& in) {
    const auto image = preprocessing::image_from_json(in, "ImageSegmentationPipeline");
    const std::string path = preprocessing::image_path_of(in);
    const std::string stem = safe_file_part(std::filesystem::path(path).stem().string());
    std::filesystem::create_directories(output_dir_);
    Json arr = Json::array();
    for (const auto& m : (*this)(image)) {
      const auto file = output_dir_ / (stem + "." + safe_file_part(m.label) + ".png");
      preprocessing::save_png(m.mask, file);
      arr.push_back({{"score", nullptr}, {"label", m.label}, {"mask", file.string()}});
    }
    return arr;
  };
  return map_inputs(input, one);
}

ORTFORMERS_REGISTER_PIPELINE("image-segmentation", make_pipeline<ImageSegmentationPipeline>);

}  // namespace ortformers::pipelines
