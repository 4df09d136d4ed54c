// Bad and unusual media inputs: corrupt / truncated / empty / unsupported files, tiny images, odd sampling rates.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "ortformers/preprocessing/inputs.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::preprocessing;

namespace {

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A 16-bit PCM mono WAV in memory.
std::vector<std::uint8_t> make_wav(const std::vector<std::int16_t>& samples, int rate, int channels = 1) {
  std::vector<std::uint8_t> b;
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  auto u16 = [&](std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  const std::uint32_t data_bytes = static_cast<std::uint32_t>(samples.size() * 2);
  b.insert(b.end(), {'R', 'I', 'F', 'F'});
  u32(36 + data_bytes);
  b.insert(b.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  u32(16);
  u16(1);
  u16(static_cast<std::uint16_t>(channels));
  u32(static_cast<std::uint32_t>(rate));
  u32(static_cast<std::uint32_t>(rate * channels * 2));
  u16(static_cast<std::uint16_t>(channels * 2));
  u16(16);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  u32(data_bytes);
  for (auto s : samples) u16(static_cast<std::uint16_t>(s));
  return b;
}

TEST(MediaBadInput, EmptyAndGarbageImages) {
  EXPECT_THROW(decode_image({}, "empty.png"), FileFormatError);
  const std::vector<std::uint8_t> garbage{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_THROW(decode_image(garbage, "garbage.bin"), FileFormatError);
  const std::vector<std::uint8_t> gif{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  EXPECT_THROW(decode_image(gif, "x.gif"), UnsupportedError);
  EXPECT_THROW(load_image("/nonexistent/image.png"), NotFoundError);
}

// Headers claiming far more pixels than the file can hold: refused before decoding (decoders would otherwise fill
// the missing data and spend seconds on a huge blank image).
TEST(MediaBadInput, HeadersClaimingMorePixelsThanTheFileHolds) {
  // Found by fuzz_media_image: a 29-byte BMP claiming 16777216x1 pixels took 41 s to decode under ASan.
  const std::vector<std::uint8_t> bmp{0x42, 0x4d, 0xff, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a,
                                      0x0a, 0x00, 0x00, 0x00, 0x7c, 0x00, 0x00, 0x00, 0x01, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x08};
  try {
    decode_image(bmp, "claims.bmp");
    FAIL() << "expected FileFormatError";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("claims.bmp"), std::string::npos) << e.what();
  }
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // The fixture JPEG's headers (first 700 bytes) with the frame size set to 8000x8000.
  auto jpg = read_bytes(fixtures / "media/images/scene_640x480.jpg");
  jpg.resize(700);
  bool patched = false;
  for (std::size_t i = 0; i + 9 < jpg.size(); ++i)
    if (jpg[i] == 0xFF && (jpg[i + 1] == 0xC0 || jpg[i + 1] == 0xC2)) {  // SOF0 / SOF2: len(2) P(1) Y(2) X(2)
      jpg[i + 5] = 8000 >> 8, jpg[i + 6] = 8000 & 0xFF, jpg[i + 7] = 8000 >> 8, jpg[i + 8] = 8000 & 0xFF;
      patched = true;
      break;
    }
  ASSERT_TRUE(patched);
  try {
    decode_image(jpg, "claims.jpg");
    FAIL() << "expected FileFormatError";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("8000x8000"), std::string::npos) << e.what();
  }
  // A real image just under the bound still decodes: the full fixture JPEG.
  EXPECT_EQ(load_image(fixtures / "media/images/scene_640x480.jpg").width, 640);
}

TEST(MediaBadInput, TruncatedAndCorruptImages) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* f : {"media/images/gradient_64x48.png", "media/images/scene_640x480.jpg"}) {
    const auto bytes = read_bytes(fixtures / f);
    for (std::size_t cut : {std::size_t{4}, std::size_t{20}, bytes.size() / 3, bytes.size() / 2}) {
      std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      // Either a clear FileFormatError or (JPEG decoders fill missing scan data) a correctly sized image.
      try {
        const Image img = decode_image(part, f);
        EXPECT_GT(img.width, 0);
        EXPECT_EQ(img.pixels.size(), static_cast<std::size_t>(img.width) * img.height * 3);
      } catch (const FileFormatError& e) {
        EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
      }
    }
    auto corrupt = bytes;
    for (std::size_t i = 16; i < corrupt.size(); i += 7) corrupt[i] ^= 0x5A;
    try {
      decode_image(corrupt, f);
    } catch (const FileFormatError&) {
    }
  }
}

TEST(MediaBadInput, OneByOneImageThroughEveryProcessor) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Image px{1, 1, 3, {200, 100, 50}};
  const auto png = encode_png(px);
  const Image back = decode_image(png, "1x1.png");
  ASSERT_EQ(back.width, 1);
  EXPECT_EQ(back.pixels, px.pixels);
  for (const char* m : {"vit-tiny-cls", "segformer-tiny"}) {
    const auto proc = ImageProcessor::from_pretrained(fixtures / "models" / m);
    const Tensor pv = proc(back);
    // Upscaling a constant image keeps it constant: every value is the normalised pixel.
    const auto v = pv.to_float_vector();
    const auto& c = proc.config();
    const std::size_t plane = v.size() / 3;
    for (int ch = 0; ch < 3; ++ch)
      EXPECT_NEAR(v[ch * plane + plane / 2],
                  (static_cast<float>(px.pixels[ch] / 255.0) - c.image_mean[ch]) / c.image_std[ch], 1e-6);
  }
  // Swin2SR pads 1x1 to 8x8 (symmetric padding of a single pixel repeats it).
  const auto swin = ImageProcessor::from_pretrained(fixtures / "models" / "swin2sr-tiny");
  const Tensor pv = swin(back);
  EXPECT_EQ(pv.shape(), (Shape{1, 3, 8, 8}));
  for (float x : pv.to_float_vector()) EXPECT_TRUE(x > 0.19f && x < 0.79f);
}

TEST(MediaBadInput, ResizeMatchesPillowOnKnownValues) {
  // 2x1 -> 1x1 bilinear (antialiased): the mean of the two pixels, rounded half up as Pillow's fixed point.
  const Image two{2, 1, 1, {10, 21}};
  EXPECT_EQ(resize(two, 1, 1, Resample::Bilinear).pixels[0], 16);
  EXPECT_THROW(resize(two, 0, 1, Resample::Bilinear), InvalidArgument);
  EXPECT_THROW(resample_from_int(9), InvalidArgument);
  EXPECT_EQ(symmetric_index(1, 1), 0);
  EXPECT_EQ(symmetric_index(3, 2), 0);  // [a b | b a | a b ...]
  EXPECT_EQ(symmetric_index(2, 2), 1);
}

TEST(MediaBadInput, ExifOrientationIsApplied) {
  const Image img{2, 1, 3, {1, 1, 1, 2, 2, 2}};
  const Image r = apply_exif_orientation(img, 6);  // rotate 90 clockwise: 2 wide 1 high -> 1 wide 2 high
  EXPECT_EQ(r.width, 1);
  EXPECT_EQ(r.height, 2);
  EXPECT_EQ(r.pixels[0], 1);
  EXPECT_EQ(r.pixels[3], 2);
  const Image m = apply_exif_orientation(img, 2);
  EXPECT_EQ(m.pixels[0], 2);
  EXPECT_EQ(exif_orientation(std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF, 0xE1, 0x00}), 1);
}

// An EXIF block (TIFF, little-endian) with one IFD0 entry: Orientation = `o`.
std::vector<std::uint8_t> tiff_orientation_block(std::uint16_t o) {
  return {'I',  'I',  42, 0, 8, 0, 0, 0,                                         // header, IFD0 at 8
          1,    0,                                                               // one entry
          0x12, 0x01, 3,  0, 1, 0, 0, 0, static_cast<std::uint8_t>(o), 0, 0, 0,  // 0x0112 SHORT x1
          0,    0,    0,  0};                                                    // no next IFD
}

TEST(MediaBadInput, ExifOrientationInJpegAndPng) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* f : {"media/images/scene_640x480.jpg", "media/images/shapes_37x53.png"}) {
    const auto bytes = read_bytes(fixtures / f);
    const Image plain = decode_image(bytes, f);
    std::vector<std::uint8_t> with;
    const auto tiff = tiff_orientation_block(6);
    if (std::string(f).ends_with(".jpg")) {
      // APP1 right after SOI.
      with.assign(bytes.begin(), bytes.begin() + 2);
      const std::size_t len = 2 + 6 + tiff.size();
      with.insert(with.end(), {0xFF, 0xE1, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
      with.insert(with.end(), {'E', 'x', 'i', 'f', 0, 0});
      with.insert(with.end(), tiff.begin(), tiff.end());
      with.insert(with.end(), bytes.begin() + 2, bytes.end());
    } else {
      // eXIf chunk after IHDR (8-byte signature + 25-byte IHDR chunk); the CRC is not checked by the decoder.
      with.assign(bytes.begin(), bytes.begin() + 33);
      const auto n = static_cast<std::uint32_t>(tiff.size());
      with.insert(with.end(), {0, 0, 0, static_cast<std::uint8_t>(n), 'e', 'X', 'I', 'f'});
      with.insert(with.end(), tiff.begin(), tiff.end());
      with.insert(with.end(), {0, 0, 0, 0});
      with.insert(with.end(), bytes.begin() + 33, bytes.end());
    }
    EXPECT_EQ(exif_orientation(with), 6) << f;
    const Image rotated = decode_image(with, f);
    ASSERT_EQ(rotated.width, plain.height) << f;
    ASSERT_EQ(rotated.height, plain.width) << f;
    EXPECT_EQ(rotated.pixels, apply_exif_orientation(plain, 6).pixels) << f;
    // Orientation 6 = rotate 90 degrees clockwise: the top-left of the result is the bottom-left of the original.
    EXPECT_EQ(rotated.at(0, 0, 0), plain.at(0, plain.height - 1, 0)) << f;
  }
}

TEST(MediaBadInput, AudioFiles) {
  EXPECT_THROW(decode_audio({}, "empty.wav"), FileFormatError);
  const std::vector<std::uint8_t> garbage(100, 0x42);
  EXPECT_THROW(decode_audio(garbage, "garbage.wav"), FileFormatError);
  EXPECT_THROW(load_audio("/nonexistent.wav"), NotFoundError);
  // A valid WAV header with no samples: decodes to zero samples, and the pipelines refuse it clearly.
  const auto empty = make_wav({}, 16000);
  const Audio a = decode_audio(empty, "zero.wav");
  EXPECT_EQ(a.frames(), 0);
  Wav2Vec2FeatureExtractor fe;
  EXPECT_THROW(fe(to_mono(a)), InvalidArgument);
  const fs::path dir = ortformers::testing::make_temp_dir("media_bad_audio");
  {
    std::ofstream(dir / "zero.wav", std::ios::binary).write(reinterpret_cast<const char*>(empty.data()), empty.size());
  }
  EXPECT_THROW(audio_from_json((dir / "zero.wav").string(), 16000, "AutomaticSpeechRecognitionPipeline"),
               InvalidArgument);
  // Truncated data chunk: the samples that are there (libsndfile clamps the length), or an error; never a crash.
  std::vector<std::int16_t> s(1000);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>(i * 30);
  auto wav = make_wav(s, 16000);
  wav.resize(wav.size() - 777);
  try {
    const Audio t = decode_audio(wav, "truncated.wav");
    EXPECT_LT(t.frames(), 1000);
    for (std::int64_t i = 0; i < t.frames(); ++i) EXPECT_FLOAT_EQ(t.samples[i], s[i] / 32768.0f);
  } catch (const FileFormatError&) {
  }
  fs::remove_all(dir);
}

TEST(MediaBadInput, OddSamplingRates) {
  std::vector<float> x(4410);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 0.05f);
  for (int sr : {8000, 11025, 22050, 44100, 48000, 96000, 7919}) {
    const auto y = resample(x, sr, 16000);
    EXPECT_EQ(static_cast<std::int64_t>(y.size()), (16000LL * 4410 + sr - 1) / sr) << sr;
    for (float v : y) EXPECT_TRUE(std::isfinite(v));
  }
  // A rate pair whose torchaudio kernel would be huge goes through soxr (Auto), and is refused for Torchaudio.
  EXPECT_GT(torchaudio_kernel_size(16001, 16000), kMaxTorchaudioKernel);
  const auto y = resample(x, 16001, 16000);
  EXPECT_EQ(y.size(), static_cast<std::size_t>((16000LL * 4410 + 16000) / 16001));
  EXPECT_THROW(resample(x, 16001, 16000, ResampleMethod::Torchaudio), InvalidArgument);
  EXPECT_THROW(resample(x, 0, 16000), InvalidArgument);
  // A sine resampled 44.1k -> 16k keeps its frequency: compare with the analytic signal away from the edges.
  std::vector<float> sine(44100);
  for (std::size_t i = 0; i < sine.size(); ++i) sine[i] = std::sin(2 * M_PI * 440.0 * i / 44100.0);
  const auto r = resample(sine, 44100, 16000);
  double err = 0;
  for (std::size_t i = 200; i + 200 < r.size(); ++i)
    err = std::max(err, std::fabs(r[i] - std::sin(2 * M_PI * 440.0 * i / 16000.0)));
  EXPECT_LT(err, 2e-3);
  // The feature extractor refuses audio at another rate, as transformers does.
  Wav2Vec2FeatureExtractor fe;
  AudioFeatureOptions o;
  o.sampling_rate = 8000;
  EXPECT_THROW(fe(std::vector<float>{0.1f, 0.2f}, o), InvalidArgument);
}

TEST(MediaBadInput, FeatureExtractorAttentionMaskAndPadding) {
  FeatureExtractorConfig c;
  c.return_attention_mask = true;
  Wav2Vec2FeatureExtractor fe(c);
  const auto out = fe(std::vector<std::vector<float>>{{1, 2, 3, 4}, {1, 3}});
  ASSERT_TRUE(out.count("attention_mask"));
  EXPECT_EQ(out.at("attention_mask").to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  const auto v = out.at("input_values").to_vector<float>();
  // With a mask, statistics exclude the padding and padded positions are 0.
  EXPECT_NEAR(v[4], -1.0f, 1e-3);
  EXPECT_NEAR(v[5], 1.0f, 1e-3);
  EXPECT_EQ(v[6], 0.0f);
  // Silence stays all zeros (variance 0 + 1e-7).
  const auto s = Wav2Vec2FeatureExtractor()(std::vector<float>(100, 0.0f));
  for (float x : s.at("input_values").to_vector<float>()) EXPECT_EQ(x, 0.0f);
  EXPECT_THROW(fe(std::vector<float>{1.0f, NAN}), InvalidArgument);
  EXPECT_THROW(FeatureExtractorConfig::from_json(Json{{"sampling_rate", -5}}), FileFormatError);
  EXPECT_THROW(ImageProcessorConfig::from_json(Json{{"do_resize", true}}), FileFormatError);
  EXPECT_THROW(ImageProcessorConfig::from_json(Json{{"image_std", {1, 2}}}), FileFormatError);
}

TEST(MediaBadInput, PipelineInputShapes) {
  EXPECT_THROW(audio_from_json(Json{{"raw", {{0.1, 0.2}, {0.3, 0.4}}}, {"sampling_rate", 16000}}, 16000, "P"),
               InvalidArgument);
  EXPECT_THROW(audio_from_json(Json(42), 16000, "P"), InvalidArgument);
  EXPECT_THROW(audio_from_json(Json("https://example.com/a.wav"), 16000, "P"), UnsupportedError);
  EXPECT_THROW(image_from_json(Json("https://example.com/a.png"), "P"), UnsupportedError);
  EXPECT_THROW(image_from_json(Json(3), "P"), InvalidArgument);
  const auto y = audio_from_json(Json{{"array", {0.0, 0.5, 1.0, 0.5}}, {"sampling_rate", 8000}}, 16000, "P");
  EXPECT_EQ(y.size(), 8u);
}

}  // namespace
