// libFuzzer target: image decoding (PNG/JPEG/BMP via stb_image, EXIF parsing) and the Pillow resize on whatever
// decodes. Any input must give an image or an ortformers::Error, never a crash or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <span>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers::preprocessing;
  std::span<const std::uint8_t> bytes(data, size);
  (void)exif_orientation(bytes);
  try {
    const Image img = decode_image(bytes, "fuzz");
    if (static_cast<long long>(img.width) * img.height <= 4096 * 4096) {
      (void)resize(img, 7, 5, Resample::Bilinear);
      (void)resize(img, 3, 11, Resample::Bicubic);
    }
  } catch (const ortformers::Error&) {
  }
  return 0;
}
