// pipeline("automatic-speech-recognition") with whisper-tiny against transformers 4.31's outputs (whisper-tiny.json
// `pipelines`): files through FFmpeg, {raw, sampling_rate} dicts resampled, generate_kwargs language / task,
// return_timestamps chunks, chunk_length_s long-form (the 35 s file) with batch_size; texts, chunks and timestamps
// identical. Bad input gives transformers' errors.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/models/probe.hpp"
#include "ortformers/pipelines/automatic_speech_recognition.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "whisper/whisper_support.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::pipelines;
using namespace ortformers::testing::whisper;

namespace {

Json input_of(const fs::path& fixtures, const Json& in) {
  if (in.is_string()) return (fixtures / in.get<std::string>()).string();
  if (in.is_array()) {
    Json out = Json::array();
    for (const auto& e : in) out.push_back(input_of(fixtures, e));
    return out;
  }
  // {"raw": "decode_wav('media/...')", "sampling_rate": sr}: 16-bit PCM / 32768, channels averaged.
  std::string desc = in.at("raw").get<std::string>();
  const auto a = desc.find('\''), b = desc.rfind('\'');
  const auto audio = preprocessing::load_audio(fixtures / desc.substr(a + 1, b - a - 1));
  EXPECT_EQ(audio.sampling_rate, in.at("sampling_rate").get<int>());
  return {{"raw", preprocessing::to_mono(audio)}, {"sampling_rate", audio.sampling_rate}};
}

TEST(WhisperPipeline, EveryReferenceOutputIdentical) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto p = pipeline("automatic-speech-recognition", (fixtures / "onnx" / "whisper-tiny").string());
  int checked = 0;
  for (const auto& e : reference(fixtures).at("pipelines").at("automatic-speech-recognition")) {
    const Json out = p->call(input_of(fixtures, e.at("input")), e.at("kwargs"));
    EXPECT_EQ(out, e.at("output")) << e.at("kwargs").dump() << " " << e.at("input").dump().substr(0, 80);
    ++checked;
  }
  EXPECT_EQ(checked, 11);
}

// `serve` and `info` without --task probe the folder's encoder graph and detect the task from it.
TEST(WhisperPipeline, DetectTaskFromTheFolder) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = fixtures / "onnx" / "whisper-tiny";
  models::ModelOptions o;
  o.file_name = models::probe_file_name(dir);
  EXPECT_EQ(o.file_name, "encoder_model.onnx");
  const auto probe = models::ORTModelForCustomTasks::from_pretrained(dir.string(), o);
  EXPECT_EQ(detect_task(probe), "automatic-speech-recognition");
}

TEST(WhisperPipeline, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  AutomaticSpeechRecognitionPipeline p((fixtures / "onnx" / "whisper-tiny").string());
  ASSERT_TRUE(p.is_whisper());
  const Json files = Json::array({(fixtures / "media/audio/speech_16k_mono.wav").string(),
                                  (fixtures / "media/audio/long_35s_16k_mono.wav").string(),
                                  (fixtures / "media/audio/tone_16k_0.5s.wav").string()});
  const Json kwargs = {
      {"chunk_length_s", 10}, {"return_timestamps", true}, {"generate_kwargs", {{"max_new_tokens", 6}}}};
  Json batched_kwargs = kwargs;
  batched_kwargs["batch_size"] = 3;
  const Json batch = p.call(files, batched_kwargs);
  ASSERT_EQ(batch.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(batch[i], p.call(files[i], kwargs)) << i;
}

TEST(WhisperPipeline, ReturnLanguage) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto p = pipeline("automatic-speech-recognition", (fixtures / "onnx" / "whisper-tiny").string());
  const Json out = p->call((fixtures / "media/audio/speech_16k_mono.wav").string(),
                           {{"return_language", true}, {"generate_kwargs", {{"max_new_tokens", 12}}}});
  // The forced <|en|> token names the language of the (only) chunk.
  ASSERT_EQ(out.at("chunks").size(), 1u);
  EXPECT_EQ(out.at("chunks")[0].at("language"), "english");
  EXPECT_EQ(out.at("chunks")[0].at("text"), out.at("text"));
  EXPECT_FALSE(out.at("chunks")[0].contains("timestamp"));
}

TEST(WhisperPipeline, BadInputIsTransformersError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto p = pipeline("automatic-speech-recognition", (fixtures / "onnx" / "whisper-tiny").string());
  const std::string wav = (fixtures / "media/audio/tone_16k_0.5s.wav").string();
  // A WAV with no samples: ffmpeg_read's error.
  const fs::path dir = ortformers::testing::make_temp_dir("whisper_zero");
  {
    const std::uint8_t header[44] = {'R', 'I', 'F', 'F', 36, 0, 0,   0,   'W', 'A',  'V',  'E', 'f', 'm', 't',
                                     ' ', 16,  0,   0,   0,  1, 0,   1,   0,   0x80, 0x3e, 0,   0,   0,   0x7d,
                                     0,   0,   2,   0,   16, 0, 'd', 'a', 't', 'a',  0,    0,   0,   0};
    std::ofstream(dir / "zero.wav", std::ios::binary).write(reinterpret_cast<const char*>(header), sizeof header);
  }
  try {
    p->call((dir / "zero.wav").string());
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Soundfile is either not in the correct format or is malformed"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
  try {
    p->call(wav, {{"generate_kwargs", {{"max_new_tokens", 2}, {"language", "klingon"}}}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Unsupported language: klingon. Language should be one of: ['english'", 0),
              0u);
  }
  EXPECT_THROW(p->call(wav, {{"max_new_tokens", 2}, {"generate_kwargs", {{"max_new_tokens", 2}}}}), InvalidArgument);
  EXPECT_THROW(p->call(wav, {{"chunk_length_s", 1}, {"stride_length_s", 1}}), InvalidArgument);
  EXPECT_THROW(p->call(wav, {{"return_timestamps", "word"}}), UnsupportedError);
  EXPECT_THROW(p->call(Json{{"raw", {0.1, 0.2}}}), InvalidArgument);
  // The feature extractor refuses a waveform at another rate with transformers' text.
  AutomaticSpeechRecognitionPipeline asr((fixtures / "onnx" / "whisper-tiny").string());
  EXPECT_THROW(
      asr.whisper_feature_extractor()(std::vector<float>(100, 0.f),
                                      preprocessing::WhisperFeatureOptions{.sampling_rate = 8000, .max_length = {}}),
      InvalidArgument);
}

}  // namespace
