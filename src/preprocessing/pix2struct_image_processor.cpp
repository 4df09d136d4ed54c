#include "ortformers/preprocessing/pix2struct_image_processor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "config_fields.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

namespace {

using detail::field;

int positive_int(const Json& j, const char* key, int fallback, const std::string& source, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  if (!j.at(key).is_number_integer())
    throw FileFormatError(source + ": field '" + where + key + "' must be an integer: " + j.at(key).dump());
  const auto v = j.at(key).get<long long>();
  if (v <= 0 || v > 1'000'000)
    throw FileFormatError(source + ": field '" + where + key + "' must be in 1..1000000, got " + std::to_string(v));
  return static_cast<int>(v);
}

// One pass of torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True) along an axis,
// on float32 data as PyTorch's CPU kernel computes it (triangle filter, support scaled by the downscaling factor,
// weights normalised over the taps inside the image, float accumulation).
struct AxisWeights {
  std::vector<std::int64_t> xmin, xsize;
  std::vector<float> w;  // out_size * max_taps
  std::int64_t taps = 0;
};

AxisWeights aa_bilinear_weights(std::int64_t in_size, std::int64_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float support = scale >= 1.0f ? scale : 1.0f;
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  AxisWeights a;
  a.taps = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  a.xmin.resize(out_size);
  a.xsize.resize(out_size);
  a.w.assign(static_cast<std::size_t>(out_size * a.taps), 0.0f);
  for (std::int64_t i = 0; i < out_size; ++i) {
    const float center = scale * (static_cast<float>(i) + 0.5f);
    const auto xmin = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
    const auto xsize = std::min<std::int64_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in_size) - xmin, a.taps);
    float* w = &a.w[static_cast<std::size_t>(i * a.taps)];
    float total = 0.0f;
    for (std::int64_t j = 0; j < xsize; ++j) {
      float x = static_cast<float>((static_cast<float>(j + xmin) - center + 0.5) * invscale);
      x = std::fabs(x);
      w[j] = x < 1.0f ? 1.0f - x : 0.0f;
      total += w[j];
    }
    if (total != 0.0f)
      for (std::int64_t j = 0; j < xsize; ++j) w[j] /= total;
    a.xmin[i] = xmin;
    a.xsize[i] = std::max<std::int64_t>(xsize, 0);
  }
  return a;
}

// data: [channels, height, width] float32. Width first, then height (PyTorch's order); an axis whose size does not
// change is not resampled.
std::vector<float> resize_chw(const std::vector<float>& data, int channels, int height, int width, int out_h,
                              int out_w) {
  std::vector<float> cur = data;
  int w = width;
  if (out_w != width) {
    const auto a = aa_bilinear_weights(width, out_w);
    std::vector<float> next(static_cast<std::size_t>(channels) * height * out_w);
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < height; ++y) {
        const float* src = &cur[(static_cast<std::size_t>(c) * height + y) * w];
        float* dst = &next[(static_cast<std::size_t>(c) * height + y) * out_w];
        for (int x = 0; x < out_w; ++x) {
          const float* wt = &a.w[static_cast<std::size_t>(x * a.taps)];
          float t = 0.0f;
          for (std::int64_t j = 0; j < a.xsize[x]; ++j) t += src[a.xmin[x] + j] * wt[j];
          dst[x] = t;
        }
      }
    cur.swap(next);
    w = out_w;
  }
  if (out_h != height) {
    const auto a = aa_bilinear_weights(height, out_h);
    std::vector<float> next(static_cast<std::size_t>(channels) * out_h * w);
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < out_h; ++y) {
        const float* wt = &a.w[static_cast<std::size_t>(y * a.taps)];
        float* dst = &next[(static_cast<std::size_t>(c) * out_h + y) * w];
        for (int x = 0; x < w; ++x) {
          float t = 0.0f;
          for (std::int64_t j = 0; j < a.xsize[y]; ++j)
            t += cur[(static_cast<std::size_t>(c) * height + a.xmin[y] + j) * w + x] * wt[j];
          dst[x] = t;
        }
      }
    cur.swap(next);
  }
  return cur;
}

}  // namespace

Pix2StructImageProcessorConfig Pix2StructImageProcessorConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw FileFormatError(source + ": expected a JSON object");
  Pix2StructImageProcessorConfig c;
  c.do_convert_rgb = field<bool>(j, "do_convert_rgb", c.do_convert_rgb, source);
  c.do_normalize = field<bool>(j, "do_normalize", c.do_normalize, source);
  c.is_vqa = field<bool>(j, "is_vqa", c.is_vqa, source);
  c.max_patches = positive_int(j, "max_patches", c.max_patches, source, "");
  if (j.contains("patch_size") && !j.at("patch_size").is_null()) {
    const Json& p = j.at("patch_size");
    if (!p.is_object())
      throw FileFormatError(source + ": field 'patch_size' must be an object {height, width}: " + p.dump());
    c.patch_height = positive_int(p, "height", c.patch_height, source, "patch_size.");
    c.patch_width = positive_int(p, "width", c.patch_width, source, "patch_size.");
  }
  return c;
}

bool Pix2StructImageProcessor::describes(const Json& j) {
  return j.is_object() && j.value("image_processor_type", std::string()) == "Pix2StructImageProcessor";
}

Pix2StructImageProcessor Pix2StructImageProcessor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  const Json j = read_json_file(path);
  if (!describes(j))
    throw FileFormatError(path.string() + ": field 'image_processor_type' is not Pix2StructImageProcessor: " +
                          (j.is_object() && j.contains("image_processor_type") ? j.at("image_processor_type").dump()
                                                                               : std::string("(missing)")));
  return Pix2StructImageProcessor(Pix2StructImageProcessorConfig::from_json(j, path.string()));
}

std::vector<float> Pix2StructImageProcessor::extract_flattened_patches(const Image& image, int max_patches,
                                                                       int* real_patches) const {
  if (image.width <= 0 || image.height <= 0) throw InvalidArgument("Pix2StructImageProcessor: empty image");
  if (image.channels != 3) throw InvalidArgument("Pix2StructImageProcessor: expected an RGB image");
  if (max_patches <= 0)
    throw InvalidArgument("Pix2StructImageProcessor: max_patches must be positive, got " + std::to_string(max_patches));
  const int ph = config_.patch_height, pw = config_.patch_width, H = image.height, W = image.width;
  const std::size_t n = static_cast<std::size_t>(H) * W * 3;

  // HWC uint8 → CHW float32, standardised over the whole image (TensorFlow's per_image_standardization).
  std::vector<float> chw(n);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c)
        chw[(static_cast<std::size_t>(c) * H + y) * W + x] = static_cast<float>(image.at(x, y, c));
  if (config_.do_normalize) {
    double sum = 0.0;
    for (float v : chw) sum += v;
    const double mean = sum / static_cast<double>(n);
    double sq = 0.0;
    for (float v : chw) sq += (v - mean) * (v - mean);
    const double stddev = std::sqrt(sq / static_cast<double>(n));
    const double adjusted = std::max(stddev, 1.0 / std::sqrt(static_cast<double>(n)));
    const float m = static_cast<float>(mean), s = static_cast<float>(adjusted);
    for (float& v : chw) v = (v - m) / s;
  }

  // The largest grid of patches with the image's aspect ratio that fits max_patches.
  const double scale = std::sqrt(max_patches * (static_cast<double>(ph) / H) * (static_cast<double>(pw) / W));
  const int rows = std::max(std::min(static_cast<int>(std::floor(scale * H / ph)), max_patches), 1);
  const int cols = std::max(std::min(static_cast<int>(std::floor(scale * W / pw)), max_patches), 1);
  const int rh = rows * ph, rw = cols * pw;
  const auto resized = resize_chw(chw, 3, H, W, rh, rw);

  const int depth = 2 + ph * pw * 3;
  std::vector<float> out(static_cast<std::size_t>(max_patches) * depth, 0.0f);
  const int count = std::min(rows * cols, max_patches);
  for (int p = 0; p < count; ++p) {
    const int r = p / cols, col = p % cols;
    float* dst = &out[static_cast<std::size_t>(p) * depth];
    dst[0] = static_cast<float>(r + 1);
    dst[1] = static_cast<float>(col + 1);
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x)
        for (int c = 0; c < 3; ++c)
          dst[2 + (y * pw + x) * 3 + c] =
              resized[(static_cast<std::size_t>(c) * rh + r * ph + y) * rw + static_cast<std::size_t>(col) * pw + x];
  }
  if (real_patches) *real_patches = count;
  return out;
}

Pix2StructInputs Pix2StructImageProcessor::operator()(const std::vector<Image>& images, std::optional<int> max_patches,
                                                      const std::vector<std::string>& header_text) const {
  if (images.empty()) throw InvalidArgument("Pix2StructImageProcessor: no images");
  if (config_.is_vqa) {
    if (header_text.empty()) throw InvalidArgument("A header text must be provided for VQA models.");
    throw UnsupportedError(
        "Pix2StructImageProcessor: VQA processors (is_vqa true) render the header text with the Arial font that "
        "transformers downloads from the Hub repository ybelkada/fonts; header rendering is not supported");
  }
  const int mp = max_patches.value_or(config_.max_patches);
  const int depth = 2 + config_.patch_height * config_.patch_width * 3;
  const auto N = static_cast<std::int64_t>(images.size());
  std::vector<float> patches;
  patches.reserve(static_cast<std::size_t>(N) * mp * depth);
  std::vector<float> mask(static_cast<std::size_t>(N) * mp, 0.0f);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto one = extract_flattened_patches(images[i], mp);
    for (int p = 0; p < mp; ++p) {
      float s = 0.0f;  // (image.sum(axis=-1) != 0), as the processor builds the mask
      for (int k = 0; k < depth; ++k) s += one[static_cast<std::size_t>(p) * depth + k];
      mask[i * mp + p] = s != 0.0f ? 1.0f : 0.0f;
    }
    patches.insert(patches.end(), one.begin(), one.end());
  }
  return {Tensor::from_vector(std::move(patches), {N, mp, depth}), Tensor::from_vector(std::move(mask), {N, mp})};
}

}  // namespace ortformers::preprocessing
