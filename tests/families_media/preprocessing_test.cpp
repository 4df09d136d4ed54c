// ConvNextImageProcessor, DeiTImageProcessor, ASTFeatureExtractor (Kaldi fbank) and the WavLM
// Wav2Vec2FeatureExtractor against the tensors transformers 4.31 recorded in the fixtures.
#include <gtest/gtest.h>

#include "ortformers/preprocessing/ast_feature_extractor.hpp"
#include "ortformers/preprocessing/audio_feature_extractor.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::preprocessing;
using namespace ortformers::testing::media;

namespace {

// pixel_values are exact up to float32 rounding of the normalisation (uint8 resize identical to Pillow's).
constexpr double kPixelTolerance = 1e-5;
// torchaudio computes the fbank in float32 (pocketfft, BLAS); ours accumulates the FFT and the mel-bank product in
// double. The float32 FFT noise (~1e-7 of the frame's largest magnitude) dominates bins whose energy is ~1e-7 of the
// peak, near the epsilon floor (log energy about -15): there the normalised values differ by up to 7e-5. Bins with
// a log energy above -10 agree within 1e-5 on the clips that need no resampling (docs/vision-audio.md).
constexpr double kFbankTolerance = 1e-4;
constexpr double kFbankStrongBinTolerance = 1e-5;
constexpr double kStrongBinLogEnergy = -10.0;

class FamilyImagePreprocessing : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyImagePreprocessing, PixelValuesMatchTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, GetParam());
  const auto proc = ImageProcessor::from_pretrained(fixtures / "models" / GetParam());
  int checked = 0;
  for (const auto& p : ref.at("preprocessing")) {
    const std::string image = p.at("image");
    const Tensor pv = proc(load_image(fixtures / image));
    const Json& r = resolve(fixtures, p.at("pixel_values"));
    ASSERT_EQ(pv.shape(), shape_of(r)) << image;
    const double d = max_diff(pv, r);
    std::cout << GetParam() << " " << image << " max diff " << d << "\n";
    EXPECT_LE(d, kPixelTolerance) << image;
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FamilyImagePreprocessing,
                         ::testing::Values("convnext-tiny-cls", "deit-tiny-distilled-cls"));

// ConvNext's two regimes on a generated image: below 384 resize-then-crop (aspect kept), at 384+ a plain resize.
TEST(FamilyImagePreprocessing, ConvNextCropPctRegimes) {
  Image img{100, 60, 3, std::vector<std::uint8_t>(100 * 60 * 3)};
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
  ImageProcessorConfig c = ImageProcessorConfig::from_json(
      Json{{"image_processor_type", "ConvNextImageProcessor"}, {"size", {{"shortest_edge", 32}}}, {"resample", 3}});
  ASSERT_TRUE(c.crop_pct.has_value());
  EXPECT_DOUBLE_EQ(*c.crop_pct, 224.0 / 256.0);  // the default
  // Below 384: shorter side 60 -> int(32 / 0.875) = 36, longer side int(36 * 100 / 60) = 60, crop 32x32 at (2, 14).
  const auto small = ImageProcessor(c)(img);
  EXPECT_EQ(small.shape(), (Shape{1, 3, 32, 32}));
  auto manual = c;
  manual.crop_pct.reset();
  manual.size_shortest_edge.reset();
  manual.size_height = 36;
  manual.size_width = 60;
  manual.do_center_crop = true;
  manual.crop_height = manual.crop_width = 32;
  EXPECT_EQ(max_abs(small, ImageProcessor(manual)(img)), 0.0);
  // 384 and above: warped to shortest_edge² (no crop).
  c.size_shortest_edge = 384;
  const auto large = ImageProcessor(c)(img);
  EXPECT_EQ(large.shape(), (Shape{1, 3, 384, 384}));
  manual.size_height = manual.size_width = 384;
  manual.do_center_crop = false;
  EXPECT_EQ(max_abs(large, ImageProcessor(manual)(img)), 0.0);
  EXPECT_THROW(
      ImageProcessorConfig::from_json(
          Json{{"image_processor_type", "ConvNextImageProcessor"}, {"size", {{"shortest_edge", 32}}}, {"crop_pct", 0}}),
      FileFormatError);
}

TEST(FamilyAudioPreprocessing, AstFbankMatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "ast-tiny-audiocls");
  const auto fe = AudioFeatureExtractor::from_pretrained(fixtures / "models/ast-tiny-audiocls");
  ASSERT_NE(fe.ast(), nullptr);
  EXPECT_EQ(fe.type(), "ASTFeatureExtractor");
  double worst = 0;
  int checked = 0;
  for (const auto& p : ref.at("preprocessing")) {
    const std::string file = p.at("audio");
    const auto wave = clip(fixtures, file);
    EXPECT_EQ(static_cast<std::int64_t>(wave.size()), p.at("waveform_samples").get<std::int64_t>()) << file;
    const auto out = fe(wave);
    EXPECT_EQ(out.size(), 1u);
    const Json& r = resolve(fixtures, p.at("input_values"));
    ASSERT_EQ(out.at("input_values").shape(), shape_of(r)) << file;
    const double d = max_diff(out.at("input_values"), r);
    // The strong bins (log energy above -10, i.e. normalised above (-10 - mean) / (2 * std)).
    const auto& cfg = fe.ast()->config();
    const double strong = (kStrongBinLogEnergy - cfg.mean) / (2.0 * cfg.std);
    const auto mine = out.at("input_values").to_float_vector();
    double d_strong = 0;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const double v = r.at("data")[i].get<double>();
      if (v > strong) d_strong = std::max(d_strong, std::fabs(mine[i] - v));
    }
    std::cout << "ast " << file << " fbank input_values max diff " << d << ", strong bins " << d_strong << "\n";
    worst = std::max(worst, d);
    EXPECT_LE(d, kFbankTolerance) << file;
    if (!p.at("resampled").get<bool>()) {
      EXPECT_LE(d_strong, kFbankStrongBinTolerance) << file;
    }
    ++checked;
  }
  EXPECT_GE(checked, 6);
  std::cout << "ast fbank worst max diff " << worst << "\n";
}

TEST(FamilyAudioPreprocessing, AstBatchPadsEachClipOnItsOwn) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, "ast-tiny-audiocls");
  const auto fe = ASTFeatureExtractor::from_pretrained(fixtures / "models/ast-tiny-audiocls");
  const auto waves = batch_clips(fixtures, ref);
  const auto out = fe(waves);
  const Json& r = resolve(fixtures, ref.at("batch").at("inputs").at("input_values"));
  ASSERT_EQ(out.at("input_values").shape(), shape_of(r));
  const double d = max_diff(out.at("input_values"), r);
  std::cout << "ast batch fbank max diff " << d << "\n";
  EXPECT_LE(d, kFbankTolerance);
  for (std::size_t i = 0; i < waves.size(); ++i)
    EXPECT_EQ(max_abs(row(out.at("input_values"), static_cast<std::int64_t>(i)), fe(waves[i]).at("input_values")), 0.0);
}

TEST(FamilyAudioPreprocessing, KaldiFbankOptionsAndErrors) {
  KaldiFbankOptions o;
  o.num_mel_bins = 23;
  std::vector<float> wave(1600);
  for (std::size_t i = 0; i < wave.size(); ++i) wave[i] = std::sin(0.05f * static_cast<float>(i));
  std::int64_t frames = 0;
  const auto povey = kaldi_fbank(wave, o, &frames);
  EXPECT_EQ(frames, 1 + (1600 - 400) / 160);
  EXPECT_EQ(povey.size(), static_cast<std::size_t>(frames) * 23);
  o.window_type = "hamming";
  EXPECT_NE(kaldi_fbank(wave, o, &frames), povey);
  o.window_type = "triangle";
  EXPECT_THROW(kaldi_fbank(wave, o, &frames), InvalidArgument);
  o.window_type = "povey";
  // Shorter than one 25 ms window: torchaudio asserts; we name the sizes.
  EXPECT_THROW(kaldi_fbank(std::span<const float>(wave.data(), 399), o, &frames), InvalidArgument);
  o.num_mel_bins = 3;
  EXPECT_THROW(kaldi_fbank(wave, o, &frames), InvalidArgument);
  const auto ast = ASTFeatureExtractor(ASTFeatureExtractorConfig{});
  EXPECT_THROW(ast(std::vector<float>(100, 0.0f)), InvalidArgument);
  EXPECT_THROW(ast(std::vector<float>(1000, NAN)), InvalidArgument);
  EXPECT_THROW(ASTFeatureExtractorConfig::from_json(Json{{"num_mel_bins", 0}}), FileFormatError);
  EXPECT_THROW(ASTFeatureExtractorConfig::from_json(Json{{"max_length", "x"}}), FileFormatError);
}

class WavLMPreprocessing : public ::testing::TestWithParam<std::string> {};

TEST_P(WavLMPreprocessing, InputValuesAndMaskMatchTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures, GetParam());
  const auto fe = AudioFeatureExtractor::from_pretrained(fixtures / "models" / GetParam());
  ASSERT_NE(fe.wav2vec2(), nullptr);
  for (const auto& p : ref.at("preprocessing")) {
    const std::string file = p.at("audio");
    const auto out = fe(clip(fixtures, file));
    const double d = max_diff(out.at("input_values"), resolve(fixtures, p.at("input_values")));
    std::cout << GetParam() << " " << file << " input_values max diff " << d << "\n";
    EXPECT_LE(d, 1e-5) << file;
    ASSERT_EQ(out.count("attention_mask"), 1u);
    EXPECT_EQ(out.at("attention_mask").to_vector<std::int64_t>(), mask_from_ref(p.at("attention_mask"))) << file;
  }
  const auto out = fe(batch_clips(fixtures, ref));
  const Json& b = ref.at("batch").at("inputs");
  EXPECT_LE(max_diff(out.at("input_values"), resolve(fixtures, b.at("input_values"))), 1e-5);
  EXPECT_EQ(out.at("attention_mask").to_vector<std::int64_t>(), mask_from_ref(b.at("attention_mask")));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WavLMPreprocessing, ::testing::Values("wavlm-tiny-xvector", "wavlm-tiny-frames"));

}  // namespace
