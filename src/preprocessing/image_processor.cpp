#include "ortformers/preprocessing/image_processor.hpp"

#include <cmath>
#include <cstring>

#include "config_fields.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing {

namespace {

using detail::field;

int positive(const Json& j, const char* key, const std::string& source, const std::string& parent) {
  int v = 0;
  try {
    v = j.at(key).get<int>();
  } catch (const Json::exception&) {
    throw FileFormatError(source + ": field '" + parent + "." + key + "' must be an integer: " + j.at(key).dump());
  }
  if (v <= 0)
    throw FileFormatError(source + ": field '" + parent + "." + key + "' must be positive, got " + std::to_string(v));
  return v;
}

std::vector<float> three_floats(const Json& j, const char* key, std::vector<float> fallback,
                                const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  const Json& v = j.at(key);
  std::vector<float> out;
  try {
    if (v.is_number()) {
      out.assign(3, v.get<float>());
    } else {
      out = v.get<std::vector<float>>();
    }
  } catch (const Json::exception&) {
    throw FileFormatError(source + ": field '" + key + "' must be a number or a list of 3 numbers: " + v.dump());
  }
  if (out.size() != 3)
    throw FileFormatError(source + ": field '" + key + "' must have 3 values (RGB), got " + std::to_string(out.size()));
  return out;
}

// transformers.image_transforms.center_crop: zero padding when the crop is larger than the image.
Image center_crop(const Image& img, int ch, int cw) {
  const int nh = std::max(ch, img.height), nw = std::max(cw, img.width);
  const int top_pad = (nh - img.height + 1) / 2, left_pad = (nw - img.width + 1) / 2;
  auto floordiv2 = [](int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  const int top = floordiv2(img.height - ch) + top_pad, left = floordiv2(img.width - cw) + left_pad;
  Image out{cw, ch, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(cw) * ch * 3, 0)};
  for (int y = 0; y < ch; ++y) {
    const int py = top + y - top_pad;  // row in the unpadded image
    if (py < 0 || py >= img.height || top + y < 0 || top + y >= nh) continue;
    for (int x = 0; x < cw; ++x) {
      const int px = left + x - left_pad;
      if (px < 0 || px >= img.width || left + x < 0 || left + x >= nw) continue;
      std::memcpy(&out.pixels[(static_cast<std::size_t>(y) * cw + x) * 3],
                  &img.pixels[(static_cast<std::size_t>(py) * img.width + px) * 3], 3);
    }
  }
  return out;
}

// get_resize_output_image_size(default_to_square=False): the shorter side becomes s, the longer int(s * long / short).
std::pair<int, int> shortest_edge_size(const Image& img, int s) {
  const bool w_short = img.width <= img.height;
  const int short_side = w_short ? img.width : img.height, long_side = w_short ? img.height : img.width;
  const int new_long = static_cast<int>(static_cast<long long>(s) * long_side / short_side);
  const int w = w_short ? s : new_long, h = w_short ? new_long : s;
  if (w <= 0 || h <= 0) throw InvalidArgument("image processor: resize to an empty image");
  return {w, h};
}

}  // namespace

int symmetric_index(long long i, int n) {
  const long long period = 2LL * n;
  long long m = i % period;
  if (m < 0) m += period;
  return static_cast<int>(m < n ? m : period - 1 - m);
}

ImageProcessorConfig ImageProcessorConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw FileFormatError(source + ": expected a JSON object");
  ImageProcessorConfig c;
  c.image_processor_type = field<std::string>(j, "image_processor_type", "", source);
  if (c.image_processor_type.empty())
    c.image_processor_type = field<std::string>(j, "feature_extractor_type", "", source);
  const bool swin2sr = c.image_processor_type.rfind("Swin2SR", 0) == 0;
  c.do_resize = field<bool>(j, "do_resize", !swin2sr, source);
  if (j.contains("size") && !j.at("size").is_null()) {
    const Json& s = j.at("size");
    if (s.is_number_integer()) {
      // Legacy int size: a square for most processors.
      c.size_height = c.size_width = positive(j, "size", source, "");
    } else if (s.is_object()) {
      if (s.contains("height") || s.contains("width")) {
        if (!s.contains("height") || !s.contains("width"))
          throw FileFormatError(source + ": field 'size' needs both 'height' and 'width'");
        c.size_height = positive(s, "height", source, "size");
        c.size_width = positive(s, "width", source, "size");
      } else if (s.contains("shortest_edge")) {
        c.size_shortest_edge = positive(s, "shortest_edge", source, "size");
      } else {
        throw FileFormatError(source + ": field 'size' has no height/width or shortest_edge: " + s.dump());
      }
    } else {
      throw FileFormatError(source + ": field 'size' has the wrong type: " + s.dump());
    }
  }
  if (c.do_resize && !c.size_height && !c.size_shortest_edge)
    throw FileFormatError(source + ": do_resize is true but no 'size' is given");
  try {
    c.resample = resample_from_int(field<int>(j, "resample", 2, source));
  } catch (const InvalidArgument& e) {
    throw FileFormatError(source + ": field 'resample': " + e.what());
  }
  if (c.image_processor_type.rfind("ConvNext", 0) == 0) {
    c.crop_pct = field<double>(j, "crop_pct", 224.0 / 256.0, source);
    if (!(*c.crop_pct > 0.0) || *c.crop_pct > 1.0)
      throw FileFormatError(source + ": field 'crop_pct' must be in (0, 1], got " + std::to_string(*c.crop_pct));
    if (c.do_resize && !c.size_shortest_edge)
      throw FileFormatError(source + ": ConvNextImageProcessor needs size.shortest_edge");
  }
  c.do_center_crop = field<bool>(j, "do_center_crop", false, source);
  if (c.do_center_crop) {
    if (!j.contains("crop_size")) throw FileFormatError(source + ": do_center_crop is true but no 'crop_size'");
    const Json& s = j.at("crop_size");
    if (s.is_number_integer()) {
      c.crop_height = c.crop_width = positive(j, "crop_size", source, "");
    } else if (s.is_object() && s.contains("height") && s.contains("width")) {
      c.crop_height = positive(s, "height", source, "crop_size");
      c.crop_width = positive(s, "width", source, "crop_size");
    } else {
      throw FileFormatError(source + ": field 'crop_size' must be {height, width}: " + s.dump());
    }
  }
  c.do_rescale = field<bool>(j, "do_rescale", true, source);
  c.rescale_factor = field<double>(j, "rescale_factor", 1.0 / 255.0, source);
  c.do_normalize = field<bool>(j, "do_normalize", !swin2sr, source);
  c.image_mean = three_floats(j, "image_mean", c.image_mean, source);
  c.image_std = three_floats(j, "image_std", c.image_std, source);
  for (float s : c.image_std)
    if (c.do_normalize && s == 0.0f) throw FileFormatError(source + ": field 'image_std' contains 0");
  c.do_pad = field<bool>(j, "do_pad", false, source);
  c.pad_size = field<int>(j, "pad_size", 8, source);
  if (c.do_pad && c.pad_size <= 0)
    throw FileFormatError(source + ": field 'pad_size' must be positive, got " + std::to_string(c.pad_size));
  return c;
}

ImageProcessor ImageProcessor::from_pretrained(const std::filesystem::path& dir_or_file) {
  const auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "preprocessor_config.json" : dir_or_file;
  return ImageProcessor(ImageProcessorConfig::from_json(read_json_file(path), path.string()));
}

std::vector<float> ImageProcessor::preprocess_one(const Image& input, int* out_height, int* out_width) const {
  const auto& c = config_;
  if (input.width <= 0 || input.height <= 0) throw InvalidArgument("image processor: empty image");
  if (input.channels != 3) throw InvalidArgument("image processor: expected an RGB image");
  Image img = input;
  if (c.do_resize) {
    if (c.crop_pct && *c.size_shortest_edge < 384) {
      // ConvNext: resize the shorter side to int(shortest_edge / crop_pct), then crop shortest_edge².
      const int s = *c.size_shortest_edge;
      const auto [w, h] = shortest_edge_size(img, static_cast<int>(s / *c.crop_pct));
      img = center_crop(resize(img, w, h, c.resample), s, s);
    } else if (c.crop_pct) {
      img = resize(img, *c.size_shortest_edge, *c.size_shortest_edge, c.resample);
    } else if (c.size_height) {
      img = resize(img, *c.size_width, *c.size_height, c.resample);
    } else {
      const auto [w, h] = shortest_edge_size(img, *c.size_shortest_edge);
      img = resize(img, w, h, c.resample);
    }
  }
  if (c.do_center_crop) img = center_crop(img, *c.crop_height, *c.crop_width);
  const int H = img.height, W = img.width;
  const std::size_t plane = static_cast<std::size_t>(H) * W;
  std::vector<float> chw(3 * plane);
  for (int ch = 0; ch < 3; ++ch) {
    const float mean = c.image_mean[ch], std = c.image_std[ch];
    for (std::size_t i = 0; i < plane; ++i) {
      const std::uint8_t u = img.pixels[i * 3 + ch];
      // rescale: uint8 * factor in float64, cast to float32; normalize: (x - mean) / std in float32.
      float v = c.do_rescale ? static_cast<float>(static_cast<double>(u) * c.rescale_factor) : static_cast<float>(u);
      if (c.do_normalize) v = (v - mean) / std;
      chw[ch * plane + i] = v;
    }
  }
  if (c.do_pad) {
    const int ph = (H / c.pad_size + 1) * c.pad_size, pw = (W / c.pad_size + 1) * c.pad_size;
    const std::size_t pplane = static_cast<std::size_t>(ph) * pw;
    std::vector<float> padded(3 * pplane);
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < ph; ++y) {
        const int sy = symmetric_index(y, H);
        for (int x = 0; x < pw; ++x)
          padded[ch * pplane + static_cast<std::size_t>(y) * pw + x] =
              chw[ch * plane + static_cast<std::size_t>(sy) * W + symmetric_index(x, W)];
      }
    *out_height = ph;
    *out_width = pw;
    return padded;
  }
  *out_height = H;
  *out_width = W;
  return chw;
}

Tensor ImageProcessor::operator()(const std::vector<Image>& images) const {
  if (images.empty()) throw InvalidArgument("image processor: no images given");
  std::vector<float> all;
  int h0 = 0, w0 = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    int h = 0, w = 0;
    auto v = preprocess_one(images[i], &h, &w);
    if (i == 0) {
      h0 = h;
      w0 = w;
      all.reserve(v.size() * images.size());
    } else if (h != h0 || w != w0) {
      throw InvalidArgument("image processor: images give different sizes (" + std::to_string(w0) + "x" +
                            std::to_string(h0) + " and " + std::to_string(w) + "x" + std::to_string(h) +
                            "); process them one at a time");
    }
    all.insert(all.end(), v.begin(), v.end());
  }
  return Tensor::from_vector(std::move(all), {static_cast<std::int64_t>(images.size()), 3, h0, w0});
}

}  // namespace ortformers::preprocessing
