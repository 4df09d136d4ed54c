// WhisperFeatureExtractor against transformers 4.31's input_features of whisper-tiny.json.
#include <gtest/gtest.h>

#include <iostream>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/audio_feature_extractor.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"
#include "whisper/whisper_support.hpp"

using namespace ortformers;
using namespace ortformers::preprocessing;
using namespace ortformers::testing::whisper;

namespace {

std::vector<std::vector<float>> load_clips(const std::filesystem::path& fixtures, const Json& files) {
  std::vector<std::vector<float>> out;
  for (const auto& f : files) out.push_back(to_mono(load_audio(fixtures / f.get<std::string>())));
  return out;
}

TEST(WhisperFeatureExtractor, InputFeaturesMatchTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& ref = reference(fixtures);
  const auto fe = WhisperFeatureExtractor::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  int checked = 0;
  for (const auto& entry : ref.at("forward")) {
    const auto clips = load_clips(fixtures, entry.at("audio"));
    const auto out = fe(clips, WhisperFeatureOptions{.sampling_rate = 16000, .max_length = {}});
    const Tensor& t = out.at("input_features");
    ASSERT_EQ(t.shape(), (Shape{static_cast<std::int64_t>(clips.size()), 80, 3000}));
    const double worst =
        compare_sampled(t.to_vector<float>(), entry.at("input_features"), 1e-4, entry.at("id").get<std::string>());
    std::cout << "whisper-tiny input_features " << entry.at("id").get<std::string>() << ": max diff " << worst << "\n";
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(WhisperFeatureExtractor, AutoFeatureExtractorPicksWhisper) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto fe = AudioFeatureExtractor::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  EXPECT_EQ(fe.type(), "WhisperFeatureExtractor");
  ASSERT_NE(fe.whisper(), nullptr);
  const auto out = fe(std::vector<float>(1600, 0.25f));
  EXPECT_EQ(out.at("input_features").shape(), (Shape{1, 80, 3000}));
}

TEST(WhisperFeatureExtractor, LongAudioIsCutTo30Seconds) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto fe = WhisperFeatureExtractor::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  auto wave = to_mono(load_audio(fixtures / "media/audio/long_35s_16k_mono.wav"));
  ASSERT_EQ(wave.size(), 560000u);
  const auto full = fe(wave).at("input_features").to_vector<float>();
  wave.resize(480000);
  const auto cut = fe(wave).at("input_features").to_vector<float>();
  EXPECT_EQ(full, cut);
}

TEST(WhisperFeatureExtractor, WrongSamplingRateIsTransformersError) {
  const WhisperFeatureExtractor fe;
  try {
    fe(std::vector<float>(16000, 0.1f), WhisperFeatureOptions{.sampling_rate = 8000, .max_length = {}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "The model corresponding to this feature extractor: WhisperFeatureExtractor was trained using a "
                 "sampling rate of 16000. Please make sure that the provided `raw_speech` input was sampled with 16000 "
                 "and not 8000.");
  }
  EXPECT_THROW(fe(std::vector<float>{0.1f, NAN}), InvalidArgument);
  // An empty waveform is all padding, as in transformers: log10(1e-10) everywhere -> (-10 + 4) / 4.
  const auto zero = fe(std::vector<float>{}).at("input_features").to_vector<float>();
  ASSERT_EQ(zero.size(), 80u * 3000u);
  for (float v : zero) ASSERT_FLOAT_EQ(v, -1.5f);
}

TEST(WhisperFeatureExtractor, BadConfigNamesTheField) {
  Json j = {{"feature_size", 80}, {"hop_length", 0}};
  try {
    WhisperFeatureExtractorConfig::from_json(j, "x/preprocessor_config.json");
    FAIL();
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("hop_length"), std::string::npos);
  }
}

}  // namespace
