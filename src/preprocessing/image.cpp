// Image decoding (libjpeg-turbo for JPEG, as Pillow; stb_image for PNG and BMP), PNG encoding (stb_image_write), EXIF
// orientation and Pillow-exact resampling.
#include "ortformers/preprocessing/image.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "ortformers/core/error.hpp"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include "jpeg_decoder.hpp"
#include "stb_config.hpp"

namespace ortformers::preprocessing {

namespace {

// Refuse absurd sizes before allocating (a corrupt header can claim gigapixels): Pillow's decompression-bomb
// limit (2 x Image.MAX_IMAGE_PIXELS, where it raises DecompressionBombError).
constexpr long long kMaxPixels = 2LL * 89478485;

// The most pixels a file of `bytes` bytes can hold in `format`, with a margin: BMP (stb reads no RLE) has at least
// one bit per pixel; PNG at least 1/8 byte per pixel after deflate, whose ratio is at most 1032:1; a JPEG block
// costs at least two Huffman bits per component. Decoders fill missing data with zeros / grey, so without this a
// 29-byte header claiming 16000x10000 pixels decodes, slowly, to a 480 MB image (found by fuzz_media_image).
long long max_plausible_pixels(const std::string& format, std::size_t bytes) {
  const auto n = static_cast<long long>(bytes);
  if (format == "bmp") return 8 * n + 64;
  if (format == "png") return 8 * 1032 * n + 4096;
  return 16384 * n + 4096;  // jpeg
}

bool starts_with(std::span<const std::uint8_t> b, std::initializer_list<std::uint8_t> magic) {
  if (b.size() < magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), b.begin());
}

std::string detect_format(std::span<const std::uint8_t> b) {
  if (starts_with(b, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return "png";
  if (starts_with(b, {0xFF, 0xD8, 0xFF})) return "jpeg";
  if (starts_with(b, {'B', 'M'})) return "bmp";
  if (starts_with(b, {'G', 'I', 'F', '8'})) return "gif";
  if (starts_with(b, {'R', 'I', 'F', 'F'}) && b.size() >= 12 && std::memcmp(b.data() + 8, "WEBP", 4) == 0)
    return "webp";
  if (starts_with(b, {'I', 'I', 42, 0}) || starts_with(b, {'M', 'M', 0, 42})) return "tiff";
  return "";
}

void check_plausible_size(const std::string& format, std::size_t bytes, int w, int h, const std::string& source) {
  if (static_cast<long long>(w) * h > max_plausible_pixels(format, bytes))
    throw FileFormatError("image " + source + ": the " + format + " header claims " + std::to_string(w) + "x" +
                          std::to_string(h) + " pixels, more than " + std::to_string(bytes) +
                          " bytes can hold (truncated or corrupt file)");
}

}  // namespace

Resample resample_from_int(int value) {
  if (value < 0 || value > 5) throw InvalidArgument("unknown resample filter " + std::to_string(value) + " (PIL: 0-5)");
  return static_cast<Resample>(value);
}

namespace {

// The orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block; 1 when absent or unreadable.
int tiff_orientation(const std::uint8_t* t, std::size_t tlen) {
  if (tlen < 8) return 1;
  const bool le = t[0] == 'I' && t[1] == 'I';
  if (!le && !(t[0] == 'M' && t[1] == 'M')) return 1;
  auto u16 = [&](std::size_t o) -> std::uint32_t { return le ? (t[o] | (t[o + 1] << 8)) : ((t[o] << 8) | t[o + 1]); };
  auto u32 = [&](std::size_t o) -> std::uint32_t {
    return le ? (t[o] | (t[o + 1] << 8) | (t[o + 2] << 16) | (static_cast<std::uint32_t>(t[o + 3]) << 24))
              : ((static_cast<std::uint32_t>(t[o]) << 24) | (t[o + 1] << 16) | (t[o + 2] << 8) | t[o + 3]);
  };
  const std::size_t ifd = u32(4);
  if (ifd > tlen || tlen - ifd < 2) return 1;
  const std::size_t count = u16(ifd);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t e = ifd + 2 + i * 12;
    if (e + 12 > tlen) return 1;
    if (u16(e) == 0x0112) {
      const std::uint32_t v = u16(e + 8);
      return (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

int png_orientation(std::span<const std::uint8_t> b) {
  std::size_t pos = 8;
  while (pos + 12 <= b.size()) {
    const std::size_t len =
        (static_cast<std::size_t>(b[pos]) << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
    if (len > b.size() - pos - 12) return 1;
    const std::uint8_t* type = b.data() + pos + 4;
    if (std::memcmp(type, "eXIf", 4) == 0) {
      const std::uint8_t* d = b.data() + pos + 8;
      std::size_t n = len;
      if (n >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) {
        d += 6;
        n -= 6;
      }
      return tiff_orientation(d, n);
    }
    if (std::memcmp(type, "IDAT", 4) == 0 || std::memcmp(type, "IEND", 4) == 0) return 1;
    pos += 12 + len;
  }
  return 1;
}

}  // namespace

int exif_orientation(std::span<const std::uint8_t> b) {
  if (starts_with(b, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return png_orientation(b);
  if (!starts_with(b, {0xFF, 0xD8})) return 1;
  std::size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return 1;
    const std::uint8_t marker = b[pos + 1];
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0xFF) {
      pos += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // start of scan: no EXIF before the image data
    const std::size_t len = (static_cast<std::size_t>(b[pos + 2]) << 8) | b[pos + 3];
    if (len < 2 || pos + 2 + len > b.size()) return 1;
    if (marker == 0xE1 && len >= 16 && std::memcmp(b.data() + pos + 4, "Exif\0\0", 6) == 0)
      return tiff_orientation(b.data() + pos + 10, len - 8);
    pos += 2 + len;
  }
  return 1;
}

Image apply_exif_orientation(const Image& in, int orientation) {
  if (orientation <= 1 || orientation > 8) return in;
  // PIL.ImageOps.exif_transpose: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 270 (i.e. 90 clockwise),
  // 7 transverse, 8 rotate 90 (counter-clockwise).
  const bool swap = orientation >= 5;
  Image out;
  out.channels = in.channels;
  out.width = swap ? in.height : in.width;
  out.height = swap ? in.width : in.height;
  out.pixels.resize(in.pixels.size());
  const int W = in.width, H = in.height;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2:
          sx = W - 1 - x;
          sy = y;
          break;
        case 3:
          sx = W - 1 - x;
          sy = H - 1 - y;
          break;
        case 4:
          sx = x;
          sy = H - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = H - 1 - x;
          break;
        case 7:
          sx = W - 1 - y;
          sy = H - 1 - x;
          break;
        case 8:
          sx = W - 1 - y;
          sy = x;
          break;
        default: break;
      }
      std::memcpy(&out.pixels[(static_cast<std::size_t>(y) * out.width + x) * out.channels],
                  &in.pixels[(static_cast<std::size_t>(sy) * W + sx) * in.channels], in.channels);
    }
  }
  return out;
}

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.empty()) throw FileFormatError("image " + source + " is empty (0 bytes)");
  const std::string format = detect_format(bytes);
  if (format.empty()) throw FileFormatError("image " + source + ": unrecognised format (supported: PNG, JPEG, BMP)");
  if (format != "png" && format != "jpeg" && format != "bmp")
    throw UnsupportedError("image " + source + ": " + format + " images are not supported (supported: PNG, JPEG, BMP)");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw FileFormatError("image " + source + " is too large");
  if (format == "jpeg")
    return apply_exif_orientation(
        detail::decode_jpeg(bytes, source, std::min(kMaxPixels, max_plausible_pixels(format, bytes.size()))),
        exif_orientation(bytes));
  int w = 0, h = 0, n = 0;
  const int len = static_cast<int>(bytes.size());
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &n))
    throw FileFormatError("image " + source + ": cannot read " + format + " header (" + stbi_failure_reason() + ")");
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > kMaxPixels)
    throw FileFormatError("image " + source + ": invalid size " + std::to_string(w) + "x" + std::to_string(h));
  check_plausible_size(format, bytes.size(), w, h, source);
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes.data(), len, &w, &h, &n, 3),
                                                 stbi_image_free);
  if (!data)
    throw FileFormatError("image " + source + ": corrupt or truncated " + format + " data (" + stbi_failure_reason() +
                          ")");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(data.get(), data.get() + static_cast<std::size_t>(w) * h * 3);
  if (format == "png") img = apply_exif_orientation(img, exif_orientation(bytes));
  return img;
}

Image load_image(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NotFoundError("image file not found: " + path.string());
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path.string());
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4)
    throw InvalidArgument("encode_png: unsupported channel count " + std::to_string(image.channels));
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels)
    throw InvalidArgument("encode_png: image size and pixel buffer disagree");
  std::vector<std::uint8_t> out;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<std::uint8_t>*>(ctx);
    auto* p = static_cast<std::uint8_t*>(data);
    v->insert(v->end(), p, p + size);
  };
  if (!stbi_write_png_to_func(sink, &out, image.width, image.height, image.channels, image.pixels.data(),
                              image.width * image.channels))
    throw RuntimeError("PNG encoding failed");
  return out;
}

void save_png(const Image& image, const std::filesystem::path& path) {
  const auto bytes = encode_png(image);
  std::ofstream f(path, std::ios::binary);
  if (!f) throw RuntimeError("cannot write " + path.string());
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw RuntimeError("cannot write " + path.string());
}

// ---------------------------------------------------------------------------------------------------------------
// Pillow's resampling (libImaging/Resample.c), reimplemented: coefficients in double, normalised, converted to
// fixed point with PRECISION_BITS = 22, accumulated in int32 from a rounding bias of 1 << 21, clipped to uint8.
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double filter_bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
double filter_bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}
double filter_lanczos(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}
double filter_box(double x) {
  return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}
double filter_hamming(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= M_PI;
  return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}

struct Filter {
  double (*fn)(double);
  double support;
};
Filter filter_for(Resample r) {
  switch (r) {
    case Resample::Bilinear: return {filter_bilinear, 1.0};
    case Resample::Bicubic: return {filter_bicubic, 2.0};
    case Resample::Lanczos: return {filter_lanczos, 3.0};
    case Resample::Box: return {filter_box, 0.5};
    case Resample::Hamming: return {filter_hamming, 1.0};
    default: break;
  }
  throw InvalidArgument("no convolution filter for this resample mode");
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // (xmin, count) per output pixel
  std::vector<std::int32_t> k;
};

Coeffs precompute(int in_size, int out_size, const Filter& f) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = f.support * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<std::size_t>(out_size) * 2);
  c.k.assign(static_cast<std::size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = f.fn((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<std::size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<std::int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<std::int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline std::uint8_t clip8(std::int32_t v) {
  const std::int32_t s = v >> kPrecisionBits;
  return static_cast<std::uint8_t>(s < 0 ? 0 : (s > 255 ? 255 : s));
}

}  // namespace

Image resize(const Image& in, int width, int height, Resample resample) {
  if (width <= 0 || height <= 0)
    throw InvalidArgument("resize: target size must be positive, got " + std::to_string(width) + "x" +
                          std::to_string(height));
  if (in.width <= 0 || in.height <= 0) throw InvalidArgument("resize: empty image");
  if (width == in.width && height == in.height) return in;
  const int C = in.channels;
  if (resample == Resample::Nearest) {
    Image out{width, height, C, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * C)};
    const double sx = static_cast<double>(in.width) / width, sy = static_cast<double>(in.height) / height;
    std::vector<int> xs(width);
    double xo = sx * 0.5;
    for (int x = 0; x < width; ++x, xo += sx) xs[x] = std::min(static_cast<int>(xo), in.width - 1);
    double yo = sy * 0.5;
    for (int y = 0; y < height; ++y, yo += sy) {
      const int iy = std::min(static_cast<int>(yo), in.height - 1);
      for (int x = 0; x < width; ++x)
        std::memcpy(&out.pixels[(static_cast<std::size_t>(y) * width + x) * C],
                    &in.pixels[(static_cast<std::size_t>(iy) * in.width + xs[x]) * C], C);
    }
    return out;
  }
  const Filter f = filter_for(resample);
  const bool need_h = width != in.width;
  const bool need_v = height != in.height;
  const Coeffs ch = precompute(in.width, width, f);
  Coeffs cv = precompute(in.height, height, f);
  const int ybox_first = cv.bounds[0];
  const int ybox_last = cv.bounds[height * 2 - 2] + cv.bounds[height * 2 - 1];

  Image cur = in;
  if (need_h) {
    // Horizontal pass over the rows the vertical pass will read only (as Pillow does).
    const int rows = need_v ? ybox_last - ybox_first : in.height;
    const int row0 = need_v ? ybox_first : 0;
    if (need_v)
      for (int i = 0; i < height; ++i) cv.bounds[i * 2] -= ybox_first;
    Image tmp{width, rows, C, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * rows * C)};
    for (int y = 0; y < rows; ++y) {
      const std::uint8_t* src = &in.pixels[static_cast<std::size_t>(y + row0) * in.width * C];
      std::uint8_t* dst = &tmp.pixels[static_cast<std::size_t>(y) * width * C];
      for (int xx = 0; xx < width; ++xx) {
        const int xmin = ch.bounds[xx * 2], xmax = ch.bounds[xx * 2 + 1];
        const std::int32_t* k = &ch.k[static_cast<std::size_t>(xx) * ch.ksize];
        for (int c = 0; c < C; ++c) {
          std::int32_t ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < xmax; ++x) ss += src[(x + xmin) * C + c] * k[x];
          dst[xx * C + c] = clip8(ss);
        }
      }
    }
    cur = std::move(tmp);
  }
  if (need_v) {
    Image out{width, height, C, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * C)};
    const std::size_t stride = static_cast<std::size_t>(width) * C;
    for (int yy = 0; yy < height; ++yy) {
      const int ymin = cv.bounds[yy * 2], ymax = cv.bounds[yy * 2 + 1];
      const std::int32_t* k = &cv.k[static_cast<std::size_t>(yy) * cv.ksize];
      std::uint8_t* dst = &out.pixels[yy * stride];
      for (std::size_t i = 0; i < stride; ++i) {
        std::int32_t ss = 1 << (kPrecisionBits - 1);
        for (int y = 0; y < ymax; ++y) ss += cur.pixels[(y + ymin) * stride + i] * k[y];
        dst[i] = clip8(ss);
      }
    }
    return out;
  }
  return cur;
}

}  // namespace ortformers::preprocessing
