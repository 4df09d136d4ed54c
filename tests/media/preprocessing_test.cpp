// Image processors and the Wav2Vec2 feature extractor against the recorded transformers outputs.
#include <gtest/gtest.h>

#include "hub/hashing.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "ortformers/preprocessing/image.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::preprocessing;
using namespace ortformers::testing::media;

namespace {

constexpr double kTolerance = 1e-4;

// Every fixture image decodes to exactly the RGB bytes Pillow gives (media.json records their sha256): PNG through
// stb_image, JPEG through libjpeg-turbo as Pillow does.
TEST(ImageDecoding, RgbBytesIdenticalToPillow) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json media = read_json_file(fixtures / "media" / "media.json");
  int checked = 0;
  for (const auto& [name, m] : media.at("images").items()) {
    const Image img = load_image(fixtures / m.at("file").get<std::string>());
    EXPECT_EQ(img.width, m.at("size_after_exif_transpose")[0].get<int>()) << name;
    EXPECT_EQ(img.height, m.at("size_after_exif_transpose")[1].get<int>()) << name;
    const std::string_view bytes(reinterpret_cast<const char*>(img.pixels.data()), img.pixels.size());
    EXPECT_EQ(hub::detail::sha256_hex(bytes), m.at("rgb_sha256").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

class VisionPreprocessing : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionPreprocessing, PixelValuesMatchTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, GetParam());
  const auto proc = ImageProcessor::from_pretrained(fixtures / "models" / GetParam());
  for (const auto& p : ref.at("preprocessing")) {
    const std::string image = p.at("image");
    const Image img = load_image(fixtures / image);
    EXPECT_EQ(img.width, p.at("loaded_size")[0].get<int>()) << image;
    EXPECT_EQ(img.height, p.at("loaded_size")[1].get<int>()) << image;
    const Tensor pv = proc(img);
    const Json& r = resolve(fixtures, p.at("pixel_values"));
    ASSERT_EQ(pv.shape(), shape_of(r)) << image;
    const double d = max_diff(pv, r);
    std::cout << GetParam() << " " << image << " max diff " << d << "\n";
    EXPECT_LE(d, kTolerance) << image;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VisionPreprocessing,
                         ::testing::Values("vit-tiny", "vit-tiny-cls", "segformer-tiny", "swin2sr-tiny"));

class AudioPreprocessing : public ::testing::TestWithParam<std::string> {};

TEST_P(AudioPreprocessing, InputValuesMatchTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, GetParam());
  const auto fe = Wav2Vec2FeatureExtractor::from_pretrained(fixtures / "models" / GetParam());
  for (const auto& p : ref.at("preprocessing")) {
    const std::string file = p.at("audio");
    const Audio a = load_audio(fixtures / file);
    EXPECT_EQ(a.sampling_rate, p.at("sampling_rate").get<int>());
    EXPECT_EQ(a.channels, p.at("channels").get<int>());
    auto mono = to_mono(a);
    if (a.sampling_rate != fe.sampling_rate()) mono = resample(mono, a.sampling_rate, fe.sampling_rate());
    EXPECT_EQ(static_cast<std::int64_t>(mono.size()), p.at("waveform_samples").get<std::int64_t>()) << file;
    const auto out = fe(mono);
    EXPECT_EQ(out.count("attention_mask"), 0u);
    const Json& r = resolve(fixtures, p.at("input_values"));
    const double d = max_diff(out.at("input_values"), r);
    std::cout << GetParam() << " " << file << " max diff " << d << "\n";
    EXPECT_LE(d, 1e-4) << file;
  }
}

TEST_P(AudioPreprocessing, PaddedBatchMatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, GetParam());
  const auto fe = Wav2Vec2FeatureExtractor::from_pretrained(fixtures / "models" / GetParam());
  std::vector<std::vector<float>> waves;
  for (const auto& a : ref.at("batch").at("audio")) {
    const Audio au = load_audio(fixtures / a.at("file").get<std::string>());
    auto mono = to_mono(au);
    if (au.sampling_rate != fe.sampling_rate()) mono = resample(mono, au.sampling_rate, fe.sampling_rate());
    if (!a.at("first_samples").is_null()) mono.resize(a.at("first_samples").get<std::size_t>());
    waves.push_back(std::move(mono));
  }
  const auto out = fe(waves);
  const Json& r = resolve(fixtures, ref.at("batch").at("inputs").at("input_values"));
  ASSERT_EQ(out.at("input_values").shape(), shape_of(r));
  EXPECT_LE(max_diff(out.at("input_values"), r), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AudioPreprocessing,
                         ::testing::Values("wav2vec2-tiny-ctc", "wav2vec2-tiny-audiocls", "wav2vec2-tiny-frames",
                                           "wav2vec2-tiny-xvector"));

TEST(AudioPreprocessing, ResampledWaveformMatchesTorchaudio) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "wav2vec2-tiny-ctc");
  int checked = 0;
  for (const auto& p : ref.at("preprocessing")) {
    if (!p.at("resampled").get<bool>() || !p.contains("waveform_resampled")) continue;
    const Audio a = load_audio(fixtures / p.at("audio").get<std::string>());
    const auto y = resample(to_mono(a), a.sampling_rate, 16000);
    const double d = max_diff_values(y, resolve(fixtures, p.at("waveform_resampled")));
    std::cout << p.at("audio") << " resample max diff " << d << "\n";
    EXPECT_LE(d, 1e-5);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
