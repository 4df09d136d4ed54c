// `ortformers run <task> --model DIR FILE...` for the vision / audio pipelines: one JSON line per input, images
// written as PNG files into --output-dir.
#include <gtest/gtest.h>

#include "ortformers/preprocessing/image.hpp"
#include "support/cli.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::testing::media;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;

namespace {

#define REQUIRE_CLI()                                                               \
  if (std::string(ORTFORMERS_CLI_PATH).empty() || !fs::exists(ORTFORMERS_CLI_PATH)) \
  GTEST_SKIP() << "ortformers CLI not built"

std::string q(const fs::path& p) {
  return shell_quote(p.string());
}

TEST(MediaCli, ImageClassification) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  REQUIRE_CLI();
  const Json& ref = reference(fixtures, "vit-tiny-cls");
  const auto r =
      run_cli("run image-classification --model " + q(fixtures / "onnx/vit-tiny-cls") + " --option top_k=2 " +
              q(fixtures / "media/images/gradient_64x48.png") + " " + q(fixtures / "media/images/shapes_37x53.png"));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 2u) << r.raw;
  const auto& expected = ref.at("pipelines").at("image-classification");
  for (std::size_t i = 0; i < 2; ++i) {
    const Json& e = expected[i * 3 + 1];  // the top_k=2 entry of image i
    ASSERT_EQ(e.at("kwargs").at("top_k"), 2);
    ASSERT_EQ(r.lines[i].size(), 2u);
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(r.lines[i][k].at("label"), e.at("output")[k].at("label"));
      EXPECT_NEAR(r.lines[i][k].at("score").get<double>(), e.at("output")[k].at("score").get<double>(), 1e-4);
    }
  }
}

TEST(MediaCli, ImageSegmentationWritesMasks) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  REQUIRE_CLI();
  const fs::path out = ortformers::testing::make_temp_dir("media_cli_seg");
  const auto r = run_cli("run image-segmentation --model " + q(fixtures / "onnx/segformer-tiny") + " --output-dir " +
                         q(out) + " " + q(fixtures / "media/images/palette_24x24.png"));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 1u);
  const Json& expected = reference(fixtures, "segformer-tiny").at("pipelines").at("image-segmentation");
  const auto e = std::find_if(expected.begin(), expected.end(),
                              [](const Json& x) { return x.at("input") == "media/images/palette_24x24.png"; });
  ASSERT_NE(e, expected.end());
  ASSERT_EQ(r.lines[0].size(), e->at("output").size());
  for (std::size_t i = 0; i < r.lines[0].size(); ++i) {
    EXPECT_EQ(r.lines[0][i].at("label"), e->at("output")[i].at("label"));
    EXPECT_TRUE(r.lines[0][i].at("score").is_null());
    const auto mask = preprocessing::load_image(r.lines[0][i].at("mask").get<std::string>());
    EXPECT_EQ(mask.width, 24);
    EXPECT_EQ(fs::path(r.lines[0][i].at("mask").get<std::string>()).parent_path(), out);
  }
  fs::remove_all(out);
}

TEST(MediaCli, ImageToImageWritesPng) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  REQUIRE_CLI();
  const fs::path out = ortformers::testing::make_temp_dir("media_cli_i2i");
  const auto r = run_cli("run image-to-image --model " + q(fixtures / "onnx/swin2sr-tiny") + " --output-dir " + q(out) +
                         " " + q(fixtures / "media/images/gray_45x30.png"));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 1u);
  const auto img = preprocessing::load_image(r.lines[0].get<std::string>());
  EXPECT_EQ(img.width, 96);
  EXPECT_EQ(img.height, 64);
  fs::remove_all(out);
}

TEST(MediaCli, SpeechRecognitionAndAudioClassification) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  REQUIRE_CLI();
  const Json& asr = reference(fixtures, "wav2vec2-tiny-ctc").at("pipelines").at("automatic-speech-recognition");
  const auto r = run_cli("run automatic-speech-recognition --model " + q(fixtures / "onnx/wav2vec2-tiny-ctc") +
                         " --option return_timestamps=word " + q(fixtures / "media/audio/tone_16k_0.5s.wav"));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 1u);
  for (const auto& e : asr) {
    if (e.at("input_form") == "path" && e.at("input") == "media/audio/tone_16k_0.5s.wav" &&
        e.at("kwargs").value("return_timestamps", "") == "word") {
      EXPECT_EQ(r.lines[0], e.at("output"));
    }
  }
  const auto c = run_cli("run audio-classification --model " + q(fixtures / "onnx/wav2vec2-tiny-audiocls") + " " +
                         q(fixtures / "media/audio/silence_16k_0.5s.wav"));
  ASSERT_EQ(c.status, 0) << c.raw;
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0].size(), 4u);
  EXPECT_EQ(c.lines[0][0].at("label"), "silence");
  // A missing file is an error exit with nothing on stdout for it.
  const auto bad = run_cli("run audio-classification --model " + q(fixtures / "onnx/wav2vec2-tiny-audiocls") +
                           " /nonexistent/clip.wav");
  EXPECT_NE(bad.status, 0);
}

}  // namespace
