// JPEG decoding through libjpeg(-turbo)'s API. Errors longjmp out of the library into decode_jpeg, which turns them
// into FileFormatError; nothing with a destructor lives between setjmp and the library calls that may jump.
#include "jpeg_decoder.hpp"

#include <csetjmp>
#include <cstdio>
#include <memory>
#include <vector>

#include <jpeglib.h>

#include "ortformers/core/error.hpp"

namespace ortformers::preprocessing::detail {

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings = 0;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Corrupt-data warnings (e.g. "premature end of data segment") are counted, not printed; Pillow also decodes
// such files, filling what is missing, so a warning is not an error.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) ++reinterpret_cast<ErrorManager*>(cinfo->err)->warnings;
}

// Pillow's cmyk2rgb (Convert.c): channel = 255 - k' - c * (255 - k) / 255 with rounding, clipped.
std::uint8_t cmyk_channel(int c, int k) {
  const int nk = 255 - k;
  const int t = c * nk + 128;
  const int v = nk - (((t >> 8) + t) >> 8);
  return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace

Image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& source, long long max_pixels) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  // Locals changed after setjmp are indeterminate after a longjmp: the buffers live on the heap behind a pointer
  // that is set once, before setjmp.
  struct Buffers {
    Image img;
    std::vector<std::uint8_t> row;
  };
  const auto buf = std::make_unique<Buffers>();
  Image& img = buf->img;
  std::vector<std::uint8_t>& row = buf->row;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    throw FileFormatError("image " + source + ": corrupt or truncated jpeg data (" + err.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  const bool adobe_inverted = cmyk && cinfo.saw_Adobe_marker;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  const long long w = cinfo.image_width, h = cinfo.image_height;
  if (w <= 0 || h <= 0 || w * h > max_pixels) {
    jpeg_destroy_decompress(&cinfo);
    throw FileFormatError("image " + source + ": the jpeg header claims " + std::to_string(w) + "x" +
                          std::to_string(h) + " pixels, more than allowed (" + std::to_string(max_pixels) +
                          ") for a file of " + std::to_string(bytes.size()) + " bytes (truncated or corrupt file)");
  }
  jpeg_start_decompress(&cinfo);
  const int comps = cinfo.output_components;
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.channels = 3;
  img.pixels.resize(static_cast<std::size_t>(img.width) * img.height * 3);
  row.resize(static_cast<std::size_t>(img.width) * comps);
  while (cinfo.output_scanline < cinfo.output_height) {
    const std::size_t y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row.data()};
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) break;
    std::uint8_t* out = &img.pixels[y * img.width * 3];
    if (!cmyk) {
      std::copy(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(img.width) * 3, out);
      continue;
    }
    for (int x = 0; x < img.width; ++x) {
      int c[4];
      for (int i = 0; i < 4; ++i) c[i] = adobe_inverted ? 255 - row[x * 4 + i] : row[x * 4 + i];
      for (int i = 0; i < 3; ++i) out[x * 3 + i] = cmyk_channel(c[i], c[3]);
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return std::move(img);
}

}  // namespace ortformers::preprocessing::detail
