// ORTModelForSpeechSeq2Seq (whisper-tiny, optimum 1.17 exports) against transformers 4.31: encoder output, step logits
// with past, and every Whisper generate() case (language / task, language detection, return_timestamps, beams,
// suppression, penalties) with sequences identical and processed scores within 1e-4; batch == one at a time.
#include <gtest/gtest.h>

#include <iostream>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"
#include "support/generative_reference.hpp"
#include "whisper/whisper_support.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing;
using namespace ortformers::testing::whisper;

namespace {

constexpr double kTol = 1e-4;

using Layout = ortformers::testing::DecoderLayoutCase;
const auto& kLayouts = ortformers::testing::kDecoderLayouts;

ORTModelForSpeechSeq2Seq load(const fs::path& fixtures, const Layout& l) {
  SpeechSeq2SeqOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  return ORTModelForSpeechSeq2Seq::from_pretrained((fixtures / "onnx" / "whisper-tiny").string(), o);
}

Tensor features_of(const fs::path& fixtures, const Json& files) {
  std::vector<std::vector<float>> clips;
  for (const auto& f : files)
    clips.push_back(preprocessing::to_mono(preprocessing::load_audio(fixtures / f.get<std::string>())));
  return preprocessing::WhisperFeatureExtractor::from_pretrained(fixtures / "onnx" / "whisper-tiny")(clips).at(
      "input_features");
}

Tensor row_of(const Tensor& t, std::int64_t r) {
  const auto per = t.numel() / t.dim(0);
  const auto v = t.to_vector<float>();
  Shape s = t.shape();
  s[0] = 1;
  return Tensor::from_vector(std::vector<float>(v.begin() + r * per, v.begin() + (r + 1) * per), s);
}

class WhisperForward : public ::testing::TestWithParam<int> {};

TEST_P(WhisperForward, MatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Layout& layout = kLayouts[GetParam()];
  const auto model = load(fixtures, layout);
  EXPECT_EQ(model.layout(), layout.expected);
  double enc_diff = 0, step_diff = 0;
  for (const auto& entry : reference(fixtures).at("forward")) {
    const std::string id = entry.at("id").get<std::string>();
    const Tensor x = features_of(fixtures, entry.at("audio"));
    const EncoderOutput enc = model.encode({{"input_features", x}});
    enc_diff = std::max(enc_diff, compare_sampled(enc.last_hidden_state.to_vector<float>(),
                                                  entry.at("encoder_last_hidden_state"), kTol, id + " encoder"));
    const Json& steps = entry.at("steps");
    EncoderDecoderCache past;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      if (!layout.use_cache && s > 0) break;
      const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
      Seq2SeqLMOutput out = s == 0 ? model.forward(x, dec) : model.forward({}, dec, past, &enc);
      const double sd = compare_logits(out.logits, steps[s].at("logits"));
      EXPECT_LE(sd, kTol) << id << " step " << s;
      step_diff = std::max(step_diff, sd);
      past = std::move(out.past_key_values);
    }
    if (layout.use_cache) {
      const Json& shapes = entry.at("present_shapes");
      ASSERT_EQ(past.size(), shapes.size());
      for (std::size_t l = 0; l < past.size(); ++l) {
        EXPECT_EQ(past[l].cross_key.shape(), shapes[l][2].get<Shape>()) << id << " layer " << l;
        EXPECT_EQ(past[l].cross_value.shape(), shapes[l][3].get<Shape>()) << id << " layer " << l;
      }
    }
    // The DecoderStep (what generate() drives).
    auto state = model.start(TensorMap{{"input_features", x}});
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
      const std::int64_t total = state->past_length() + dec.dim(1);
      const Tensor dmask = Tensor::from_vector(std::vector<std::int64_t>(x.dim(0) * total, 1), {x.dim(0), total});
      const Tensor logits = state->step(dec, dmask);
      const double sd = compare_logits(logits.reshape({logits.dim(0), 1, logits.dim(1)}), steps[s].at("logits"));
      EXPECT_LE(sd, kTol) << id << " DecoderStep step " << s;
      step_diff = std::max(step_diff, sd);
    }
  }
  std::cout << "whisper-tiny " << layout.name << ": encoder max diff " << enc_diff << ", step logits " << step_diff
            << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WhisperForward, ::testing::Values(0, 1, 2),
                         [](const auto& info) { return std::string(kLayouts[info.param].name); });

class WhisperGenerate : public ::testing::TestWithParam<int> {};

TEST_P(WhisperGenerate, EveryCaseMatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Layout& layout = kLayouts[GetParam()];
  const auto model = load(fixtures, layout);
  const Json& ref = reference(fixtures);
  double worst = 0;
  int cases = 0;
  for (const auto& c : ref.at("generate")) {
    const std::string id = c.at("id").get<std::string>() + "/" + c.at("input").get<std::string>();
    const Tensor x = features_of(fixtures, ref.at("generate_inputs").at(c.at("input").get<std::string>()));
    Json kwargs = c.at("kwargs");
    kwargs["output_scores"] = true;
    kwargs["return_dict_in_generate"] = true;
    const auto out = generation::generate_whisper(model, {{"input_features", x}}, {}, kwargs);
    const auto d = check_generate_case(out, c, id, kTol);
    worst = std::max({worst, d.scores, d.sequences_scores});
    ++cases;
    // Batch == one at a time (greedy / beam rows are independent).
    if (x.dim(0) > 1) {
      const auto seqs = out.sequences.to_vector<std::int64_t>();
      for (std::int64_t r = 0; r < x.dim(0); ++r) {
        const auto one = generation::generate_whisper(model, {{"input_features", row_of(x, r)}}, {}, c.at("kwargs"));
        const auto v = one.sequences.to_vector<std::int64_t>();
        const auto w = out.sequences.dim(1);
        std::vector<std::int64_t> row(seqs.begin() + r * w, seqs.begin() + (r + 1) * w);
        // The batch pads finished rows; the single run stops there.
        row.resize(v.size());
        EXPECT_EQ(v, row) << id << " row " << r;
      }
    }
  }
  EXPECT_EQ(cases, 10);
  std::cout << "whisper-tiny generate (" << layout.name << "): " << cases << " cases, max score diff " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WhisperGenerate, ::testing::Values(0, 1),
                         [](const auto& info) { return std::string(kLayouts[info.param].name); });

TEST(WhisperGenerate, BadInputIsTransformersError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto model = load(fixtures, kLayouts[0]);
  const Tensor x = features_of(fixtures, Json::array({"media/audio/tone_16k_0.5s.wav"}));
  try {
    generation::generate_whisper(model, {{"input_features", x}}, {}, {{"max_new_tokens", 2}, {"language", "klingon"}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("Unsupported language: klingon. Language should be one of: ['english', 'chinese', ", 0), 0u) << m;
    EXPECT_NE(m.find("'moldovan', 'sinhalese', 'castilian']."), std::string::npos) << m;
  }
  try {
    generation::generate_whisper(model, {{"input_features", x}}, {}, {{"max_new_tokens", 2}, {"language", "xx"}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Unsupported language: xx. Language should be one of: ['en', 'zh', ", 0), 0u);
  }
  try {
    generation::generate_whisper(model, {{"input_features", x}}, {}, {{"max_new_tokens", 2}, {"task", "summarize"}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "The `summarize`task is not supported. The task should be one of `['translate', 'transcribe']`");
  }
  EXPECT_THROW(generation::generate_whisper(model, {{"input_features", x}}, {}, {{"max_new_tokenz", 2}}),
               InvalidArgument);
  // Wrong feature shapes.
  EXPECT_THROW(model.encode({{"input_features", Tensor::from_vector(std::vector<float>(80 * 100), {1, 80, 100})}}),
               InvalidArgument);
  EXPECT_THROW(model.encode({{"input_ids", Tensor::from_vector(std::vector<std::int64_t>{1}, {1, 1})}}),
               InvalidArgument);
}

}  // namespace

namespace {

// Whisper's generate arguments are not GenerationConfig fields of other models (4.31 reports them as unused).
TEST(WhisperGenerationConfig, WhisperKeysOnlyForWhisperConfigs) {
  generation::GenerationConfig gpt2;
  gpt2.eos_token_id = {50256};
  const Json unused = gpt2.update({{"language", "en"}, {"return_timestamps", true}, {"max_new_tokens", 3}});
  EXPECT_TRUE(unused.contains("language"));
  EXPECT_TRUE(unused.contains("return_timestamps"));
  EXPECT_EQ(gpt2.max_new_tokens, 3);
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto whisper = generation::GenerationConfig::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  ASSERT_TRUE(whisper.no_timestamps_token_id);
  EXPECT_EQ(*whisper.no_timestamps_token_id, 50363);
  EXPECT_EQ(whisper.lang_to_id->size(), 99u);
  EXPECT_TRUE(whisper.update({{"return_timestamps", true}}).empty());
  EXPECT_TRUE(whisper.return_timestamps);
  // The timestamp processor's begin index follows the forced ids (4.31: len + 2, minus one after <|notimestamps|>).
  whisper.forced_decoder_ids = {{{1, 50259}, {2, 50359}, {3, 50363}}};
  EXPECT_EQ(generation::WhisperTimeStampLogitsProcessor(whisper).begin_index(), 4);
  whisper.forced_decoder_ids = {{{1, 50259}, {2, 50359}}};
  EXPECT_EQ(generation::WhisperTimeStampLogitsProcessor(whisper).begin_index(), 4);
}

}  // namespace
