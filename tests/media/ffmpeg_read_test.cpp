// File inputs are decoded as transformers' ffmpeg_read (`ffmpeg -i pipe:0 -ac 1 -ar R -f f32le`): ortformers'
// FFmpeg-library decoder against the ffmpeg CLI's own output for the same file, sample for sample (bit-exact), on the
// fixture WAVs and on MP3 / OGG Vorbis / FLAC / M4A (AAC) / Opus files and 22.05 kHz stereo / 48 kHz mono WAVs that
// the CLI makes from them in a temporary folder.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using ortformers::testing::shell_quote;
namespace fs = std::filesystem;

namespace {

bool have_ffmpeg_cli() {
  return std::system("ffmpeg -version >/dev/null 2>&1") == 0;
}

bool ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args + " >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// What the CLI gives: `ffmpeg -i FILE -ac 1 -ar R -f f32le OUT`.
std::vector<float> cli_decode(const fs::path& file, int rate, const fs::path& tmp) {
  const fs::path out = tmp / "cli.f32";
  EXPECT_TRUE(ffmpeg("-i " + shell_quote(file.string()) + " -ac 1 -ar " + std::to_string(rate) + " -f f32le " +
                     shell_quote(out.string())))
      << file;
  const auto bytes = read_bytes(out);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

void expect_same_as_cli(const fs::path& file, int rate, const fs::path& tmp) {
  const auto expected = cli_decode(file, rate, tmp);
  ASSERT_FALSE(expected.empty()) << file;
  const auto got = preprocessing::load_audio_mono(file, rate);
  ASSERT_EQ(got.size(), expected.size()) << file << " at " << rate << " Hz";
  std::size_t differing = 0;
  float max_diff = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &expected[i], sizeof(float)) != 0) ++differing;
    max_diff = std::max(max_diff, std::fabs(got[i] - expected[i]));
  }
  EXPECT_EQ(differing, 0u) << file << " at " << rate << " Hz: " << differing << " of " << got.size()
                           << " samples differ, max |diff| " << max_diff;
}

class FfmpegRead : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_ffmpeg_cli()) {
      if (ortformers::testing::running_in_ci()) FAIL() << "the ffmpeg CLI is missing (scripts/setup.sh installs it)";
      GTEST_SKIP() << "ffmpeg CLI not installed";
    }
    tmp_ = ortformers::testing::make_temp_dir("ffmpeg_read");
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }
  fs::path tmp_;
};

}  // namespace

TEST_F(FfmpegRead, FixtureWavsEqualTheCli) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"speech_16k_mono.wav", "speech_8k_mono.wav", "speech_44k1_stereo.wav", "tone_16k_0.5s.wav",
                           "silence_16k_0.5s.wav"}) {
    for (int rate : {16000, 22050}) expect_same_as_cli(fixtures / "media" / "audio" / name, rate, tmp_);
  }
  // 16 kHz mono 16-bit PCM: exactly int16 / 32768, the same samples as the libsndfile decoder.
  const auto wav = fixtures / "media" / "audio" / "speech_16k_mono.wav";
  EXPECT_EQ(preprocessing::load_audio_mono(wav, 16000), preprocessing::load_audio(wav).samples);
}

TEST_F(FfmpegRead, CompressedFormatsAndOtherRatesEqualTheCli) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path stereo = fixtures / "media" / "audio" / "speech_44k1_stereo.wav";
  const std::vector<std::pair<std::string, std::string>> made = {
      {"speech.mp3", "-c:a libmp3lame -b:a 96k"},
      {"speech.ogg", "-c:a libvorbis -q:a 3"},
      {"speech.flac", "-c:a flac"},
      {"speech.m4a", "-c:a aac -b:a 96k"},
      {"speech.opus", "-c:a libopus -b:a 48k"},
      {"speech_22k05_stereo.wav", "-ar 22050 -ac 2 -c:a pcm_s16le"},
      {"speech_48k_mono.wav", "-ar 48000 -ac 1 -c:a pcm_s16le"}};
  for (const auto& [file, codec] : made) {
    ASSERT_TRUE(ffmpeg("-i " + shell_quote(stereo.string()) + " " + codec + " " + shell_quote((tmp_ / file).string())))
        << file;
    expect_same_as_cli(tmp_ / file, 16000, tmp_);
  }
  // The dict form keeps torchaudio's resampler: not the same samples as the path form for a 48 kHz file.
  const auto mono48 = preprocessing::load_audio(tmp_ / "speech_48k_mono.wav");
  const auto dict_form = preprocessing::resample(mono48.samples, 48000, 16000);
  const auto path_form = preprocessing::load_audio_mono(tmp_ / "speech_48k_mono.wav", 16000);
  EXPECT_NE(dict_form, path_form);
}

TEST_F(FfmpegRead, BadFilesAreClearErrors) {
  const fs::path junk = tmp_ / "junk.mp3";
  { std::ofstream(junk) << "this is not audio at all, just some text pretending to be an mp3 file"; }
  try {
    preprocessing::load_audio_mono(junk, 16000);
    ADD_FAILURE() << "no error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.mp3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(preprocessing::load_audio_mono(tmp_ / "missing.wav", 16000), NotFoundError);
  EXPECT_THROW(preprocessing::ffmpeg_read({}, 16000), FileFormatError);
}
