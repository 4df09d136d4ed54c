#pragma once
// Images as transformers sees them after `load_image`: 8-bit RGB, EXIF orientation applied, alpha dropped
// (PIL's convert("RGB") keeps the colour under transparent pixels), greyscale/palette expanded to RGB.
// Decoding PNG/JPEG/BMP (stb_image), PNG encoding, and Pillow-exact resampling of uint8 images.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace ortformers::preprocessing {

// An 8-bit image, row-major, interleaved channels (HWC).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;  // 3 (RGB) or 1 (L, e.g. a segmentation mask)
  std::vector<std::uint8_t> pixels;

  std::uint8_t at(int x, int y, int c) const {
    return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }
};

// Pillow's resampling filters (the integer values of PIL.Image.Resampling, as stored in preprocessor_config.json).
enum class Resample { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };
Resample resample_from_int(int value);  // InvalidArgument for an unknown value

// Decodes PNG, JPEG or BMP bytes to RGB (load_image semantics: EXIF orientation of JPEG/PNG applied, RGBA/LA lose
// alpha, L/P become RGB). FileFormatError naming `source` on corrupt, truncated or unsupported data.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source = "<memory>");
// Reads and decodes an image file. NotFoundError when missing.
Image load_image(const std::filesystem::path& path);
// The EXIF orientation tag (1..8) of a JPEG (APP1) or PNG (eXIf chunk), 1 when absent or unreadable.
int exif_orientation(std::span<const std::uint8_t> jpeg_bytes);
// PIL.ImageOps.exif_transpose for an orientation value 1..8.
Image apply_exif_orientation(const Image& image, int orientation);

// PNG encoding (RGB or L). encode_png returns the file bytes; save_png writes them (RuntimeError on failure).
std::vector<std::uint8_t> encode_png(const Image& image);
void save_png(const Image& image, const std::filesystem::path& path);

// PIL's Image.resize(size, resample, reducing_gap=None) on an 8-bit image: separable convolution, horizontal pass
// then vertical pass, each rounded to uint8 with Pillow's fixed-point coefficients (22 fractional bits); the filter
// support is scaled by the downscaling factor (antialiasing). Nearest uses Pillow's nearest-neighbour rule.
Image resize(const Image& image, int width, int height, Resample resample);

}  // namespace ortformers::preprocessing
