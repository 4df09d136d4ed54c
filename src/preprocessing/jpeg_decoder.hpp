#pragma once
// Internal: JPEG decoding with libjpeg-turbo, the library Pillow decodes with, so pixels match PIL exactly.
#include <cstdint>
#include <span>
#include <string>

#include "ortformers/preprocessing/image.hpp"

namespace ortformers::preprocessing::detail {

// Decodes a JPEG to 8-bit RGB as PIL's Image.open(...).convert("RGB") does (libjpeg defaults: islow IDCT, fancy
// upsampling; greyscale replicated; CMYK/YCCK converted with Pillow's cmyk2rgb, Adobe-inverted data un-inverted).
// FileFormatError naming `source` on corrupt or truncated data; images over `max_pixels` are refused.
Image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& source, long long max_pixels);

}  // namespace ortformers::preprocessing::detail
