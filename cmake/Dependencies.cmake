# Third-party dependencies: Debian packages (scripts/setup.sh) and ONNX Runtime from ONNXRUNTIME_ROOT
# (official release layout) or the local prefix third_party/onnxruntime that setup.sh fills from npm.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 QUIET)
if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED) # libcli11-dev ships the header only on some releases
endif()
find_package(ONNX CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip) # its CMake config references tools Debian ships separately
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # libcrypto: SHA-256 / SHA-1 of downloads (EVP)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
find_package(Boost 1.81 REQUIRED)  # headers only: Beast + Asio for the HTTP server
# Audio files decoded as transformers' ffmpeg_read (`ffmpeg -ac 1 -ar R -f f32le`): FFmpeg's own libraries.
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswresample libavutil)
find_package(JPEG REQUIRED)  # libjpeg-turbo: the decoder Pillow uses, for identical pixels

set(ONNXRUNTIME_ROOT "$ENV{ONNXRUNTIME_ROOT}" CACHE PATH "ONNX Runtime install (include/, lib/)")
if(NOT ONNXRUNTIME_ROOT)
  set(ONNXRUNTIME_ROOT "${PROJECT_SOURCE_DIR}/third_party/onnxruntime")
endif()
find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h
  PATHS "${ONNXRUNTIME_ROOT}/include" "${ONNXRUNTIME_ROOT}/include/onnxruntime" NO_DEFAULT_PATH)
find_library(ONNXRUNTIME_LIBRARY NAMES onnxruntime libonnxruntime.so.1
  PATHS "${ONNXRUNTIME_ROOT}/lib" NO_DEFAULT_PATH)
if(NOT ONNXRUNTIME_INCLUDE_DIR OR NOT ONNXRUNTIME_LIBRARY)
  message(FATAL_ERROR "ONNX Runtime not found under '${ONNXRUNTIME_ROOT}'. Run scripts/setup.sh, "
                      "or set ONNXRUNTIME_ROOT to an install with include/onnxruntime_cxx_api.h and lib/libonnxruntime.so")
endif()
add_library(onnxruntime::onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(onnxruntime::onnxruntime PROPERTIES
  IMPORTED_LOCATION "${ONNXRUNTIME_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${ONNXRUNTIME_INCLUDE_DIR}")
message(STATUS "ONNX Runtime: ${ONNXRUNTIME_LIBRARY}")
