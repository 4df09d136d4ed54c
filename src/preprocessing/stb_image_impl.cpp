// The stb_image / stb_image_write implementations (Debian's libstb-dev headers), in a translation unit of their
// own: it is built without UndefinedBehaviorSanitizer (see CMakeLists.txt), since stb's JPEG decoder shifts
// negative values, which UBSan reports on fuzzed input; the rest of the library keeps the sanitizer.
#include "stb_config.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
