// `ortformers run automatic-speech-recognition` and `ortformers generate` with whisper-tiny against whisper-tiny.json.
#include <gtest/gtest.h>

#include <fstream>

#include "support/cli.hpp"
#include "whisper/whisper_support.hpp"

using namespace ortformers;
using namespace ortformers::testing;
using namespace ortformers::testing::whisper;

namespace {

std::string option_arg(const std::string& key, const Json& value) {
  std::string kv = key;
  kv.append("=").append(value.dump());
  return " --option " + shell_quote(kv);
}

TEST(WhisperCli, RunAutomaticSpeechRecognition) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& entries = reference(fixtures).at("pipelines").at("automatic-speech-recognition");
  // Entry 4: two files with batch_size 2; entry 5: the 35 s file, chunk_length_s 10.
  const Json& batch = entries[4];
  const Json& chunked = entries[5];
  ASSERT_EQ(batch.at("kwargs").at("batch_size"), 2);
  ASSERT_EQ(chunked.at("kwargs").at("chunk_length_s"), 10);
  std::string args =
      "run automatic-speech-recognition --model " + shell_quote((fixtures / "onnx/whisper-tiny").string());
  for (const auto& [k, v] : batch.at("kwargs").items()) args += option_arg(k, v);
  for (const auto& f : batch.at("input"))
    args.append(" ").append(shell_quote((fixtures / f.get<std::string>()).string()));
  const auto r = run_cli(args);
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0], batch.at("output")[0]);
  EXPECT_EQ(r.lines[1], batch.at("output")[1]);
  std::string args2 =
      "run automatic-speech-recognition --model " + shell_quote((fixtures / "onnx/whisper-tiny").string());
  for (const auto& [k, v] : chunked.at("kwargs").items()) args2 += option_arg(k, v);
  args2.append(" ").append(shell_quote((fixtures / chunked.at("input").get<std::string>()).string()));
  const auto r2 = run_cli(args2);
  ASSERT_EQ(r2.status, 0) << r2.raw;
  ASSERT_EQ(r2.lines.size(), 1u);
  EXPECT_EQ(r2.lines[0], chunked.at("output"));
}

TEST(WhisperCli, GenerateAudioLines) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = reference(fixtures);
  const auto dir = make_temp_dir("whisper_cli");
  std::vector<const Json*> cases;
  {
    std::ofstream out(dir / "in.jsonl");
    for (const auto& c : ref.at("generate")) {
      if (c.at("kwargs").contains("num_beams")) continue;  // scores of beams are checked in the model tests
      Json audio = Json::array();
      for (const auto& f : ref.at("generate_inputs").at(c.at("input").get<std::string>()))
        audio.push_back((fixtures / f.get<std::string>()).string());
      out << Json{{"audio", audio}, {"parameters", c.at("kwargs")}}.dump() << "\n";
      cases.push_back(&c);
    }
    out << Json{{"audio", (fixtures / "media/audio/speech_16k_mono.wav").string()}, {"bogus", 1}}.dump() << "\n";
  }
  const auto r = run_cli("generate --model " + shell_quote((fixtures / "onnx/whisper-tiny").string()) + " --inputs " +
                         shell_quote((dir / "in.jsonl").string()));
  EXPECT_NE(r.status, 0);  // the last line has an unknown key
  ASSERT_EQ(r.lines.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(r.lines[i].at("sequences"), cases[i]->at("sequences")) << cases[i]->at("id");
  std::filesystem::remove_all(dir);
}

}  // namespace
