// Every entry of reference/logits-processors.json (transformers 4.31 on recorded T5 logits): each processor alone and
// every sampling chain (as generate(do_sample=True, ...) builds it; warped scores and softmax probabilities).
#include <gtest/gtest.h>

#include "generation/test_util.hpp"
#include "ortformers/generation/logits_processors.hpp"

namespace ortformers::testing {
namespace {

using namespace ortformers::generation;

struct Fixture {
  Json ref;
  std::vector<float> raw;
  std::int64_t rows = 0, vocab = 0;
  TokenMatrix input_ids;
};

Fixture load(const std::filesystem::path& dir) {
  Fixture f;
  f.ref = read_json_file(dir / "reference" / "logits-processors.json");
  f.raw = ref_floats(f.ref.at("raw_logits").at("data"));
  f.rows = f.ref.at("raw_logits").at("shape")[0].get<std::int64_t>();
  f.vocab = f.ref.at("raw_logits").at("shape")[1].get<std::int64_t>();
  f.input_ids = TokenMatrix::from_rows(f.ref.at("input_ids").get<std::vector<std::vector<std::int64_t>>>());
  return f;
}

std::vector<std::int64_t> int_or_list(const Json& v) {
  if (v.is_array()) return v.get<std::vector<std::int64_t>>();
  return {v.get<std::int64_t>()};
}

std::shared_ptr<LogitsProcessor> make_processor(const std::string& name, const Json& kw) {
  auto keep = [&] { return kw.value("min_tokens_to_keep", std::int64_t{1}); };
  if (name == "TemperatureLogitsWarper") return std::make_shared<TemperatureLogitsWarper>(kw.at("temperature").get<double>());
  if (name == "TopKLogitsWarper") return std::make_shared<TopKLogitsWarper>(kw.at("top_k").get<std::int64_t>(), keep());
  if (name == "TopPLogitsWarper") return std::make_shared<TopPLogitsWarper>(kw.at("top_p").get<double>(), keep());
  if (name == "TypicalLogitsWarper") return std::make_shared<TypicalLogitsWarper>(kw.at("mass").get<double>(), keep());
  if (name == "EpsilonLogitsWarper") return std::make_shared<EpsilonLogitsWarper>(kw.at("epsilon").get<double>(), keep());
  if (name == "EtaLogitsWarper") return std::make_shared<EtaLogitsWarper>(kw.at("epsilon").get<double>(), keep());
  if (name == "RepetitionPenaltyLogitsProcessor")
    return std::make_shared<RepetitionPenaltyLogitsProcessor>(kw.at("penalty").get<double>());
  if (name == "NoRepeatNGramLogitsProcessor")
    return std::make_shared<NoRepeatNGramLogitsProcessor>(kw.at("ngram_size").get<std::int64_t>());
  if (name == "MinLengthLogitsProcessor")
    return std::make_shared<MinLengthLogitsProcessor>(kw.at("min_length").get<std::int64_t>(), int_or_list(kw.at("eos_token_id")));
  if (name == "MinNewTokensLengthLogitsProcessor")
    return std::make_shared<MinNewTokensLengthLogitsProcessor>(kw.at("prompt_length_to_skip").get<std::int64_t>(),
                                                               kw.at("min_new_tokens").get<std::int64_t>(),
                                                               int_or_list(kw.at("eos_token_id")));
  if (name == "NoBadWordsLogitsProcessor")
    return std::make_shared<NoBadWordsLogitsProcessor>(kw.at("bad_words_ids").get<std::vector<std::vector<std::int64_t>>>(),
                                                       int_or_list(kw.at("eos_token_id")));
  if (name == "ForcedBOSTokenLogitsProcessor")
    return std::make_shared<ForcedBOSTokenLogitsProcessor>(kw.at("bos_token_id").get<std::int64_t>());
  if (name == "ForcedEOSTokenLogitsProcessor")
    return std::make_shared<ForcedEOSTokenLogitsProcessor>(kw.at("max_length").get<std::int64_t>(), int_or_list(kw.at("eos_token_id")));
  if (name == "SuppressTokensLogitsProcessor")
    return std::make_shared<SuppressTokensLogitsProcessor>(kw.at("suppress_tokens").get<std::vector<std::int64_t>>());
  if (name == "SuppressTokensAtBeginLogitsProcessor")
    return std::make_shared<SuppressTokensAtBeginLogitsProcessor>(kw.at("begin_suppress_tokens").get<std::vector<std::int64_t>>(),
                                                                  kw.at("begin_index").get<std::int64_t>());
  if (name == "ExponentialDecayLengthPenalty") {
    const auto& p = kw.at("exponential_decay_length_penalty");
    return std::make_shared<ExponentialDecayLengthPenalty>(std::pair(p[0].get<std::int64_t>(), p[1].get<double>()),
                                                           int_or_list(kw.at("eos_token_id")),
                                                           kw.at("input_ids_seq_length").get<std::int64_t>());
  }
  if (name == "LogitNormalization") return std::make_shared<LogitNormalization>();
  if (name == "InfNanRemoveLogitsProcessor") return std::make_shared<InfNanRemoveLogitsProcessor>();
  return nullptr;
}

TokenMatrix first_columns(const TokenMatrix& m, std::int64_t n) {
  TokenMatrix out;
  out.rows = m.rows;
  out.cols = n;
  for (std::int64_t r = 0; r < m.rows; ++r) {
    auto row = m.row(r);
    out.data.insert(out.data.end(), row.begin(), row.begin() + n);
  }
  return out;
}

TEST(LogitsProcessorsReference, EveryProcessorAlone) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Fixture f = load(fixtures);
  std::size_t checked = 0;
  for (const auto& entry : f.ref.at("processors")) {
    const auto name = entry.at("processor").get<std::string>();
    const auto& kw = entry.at("kwargs");
    auto processor = make_processor(name, kw);
    ASSERT_TRUE(processor) << "no processor for " << name;
    EXPECT_EQ(processor->name(), name);
    std::vector<float> scores = f.raw;
    const auto ids = first_columns(f.input_ids, entry.at("input_ids_length").get<std::int64_t>());
    (*processor)(ids, ScoresRef{scores.data(), f.rows, f.vocab}, {});
    const auto diff = expect_scores_near(scores, ref_floats(entry.at("scores").at("data")), 1e-5, name + " " + kw.dump());
    RecordProperty(name + kw.dump(), std::to_string(diff));
    ++checked;
  }
  EXPECT_EQ(checked, f.ref.at("processors").size());
  EXPECT_GE(checked, 26u);
}

TEST(LogitsProcessorsReference, EverySamplingChain) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Fixture f = load(fixtures);
  const auto base = GenerationConfig::from_pretrained(fixtures / "models" / "t5-tiny");
  for (const auto& chain : f.ref.at("sampling_chains")) {
    GenerationConfig config = base;
    const Json unused = config.update(chain.at("generate_kwargs"));
    EXPECT_TRUE(unused.empty()) << unused.dump();
    config.validate();
    // T5 is an encoder-decoder model: the prompt is the decoder start token.
    const auto processors = get_logits_processor(config, 1, nullptr, true);
    const auto warpers = get_logits_warper(config);
    EXPECT_EQ(processors.names(), chain.at("processors").get<std::vector<std::string>>()) << chain.at("generate_kwargs").dump();
    EXPECT_EQ(warpers.names(), chain.at("warpers").get<std::vector<std::string>>()) << chain.at("generate_kwargs").dump();
    std::vector<float> scores = f.raw;
    ScoresRef ref{scores.data(), f.rows, f.vocab};
    processors(f.input_ids, ref);
    warpers(f.input_ids, ref);
    const auto what = chain.at("generate_kwargs").dump();
    expect_scores_near(scores, ref_floats(chain.at("scores").at("data")), 1e-5, what + " scores");
    std::vector<float> probs(scores.size());
    for (std::int64_t r = 0; r < f.rows; ++r) softmax(ref.row(r), probs.data() + r * f.vocab, f.vocab);
    const auto expected = ref_floats(chain.at("probabilities").at("data"));
    ASSERT_EQ(probs.size(), expected.size());
    for (std::size_t i = 0; i < probs.size(); ++i) {
      if (expected[i] == 0.0f) EXPECT_EQ(probs[i], 0.0f) << what << " probability " << i;
      else EXPECT_NEAR(probs[i], expected[i], 1e-5) << what << " probability " << i;
    }
  }
}

TEST(LogitsProcessors, BuilderOrderAndRefusals) {
  GenerationConfig c;
  c.repetition_penalty = 1.2;
  c.no_repeat_ngram_size = 2;
  c.bad_words_ids = std::vector<std::vector<std::int64_t>>{{5}};
  c.eos_token_id = {2};
  c.min_length = 3;
  c.min_new_tokens = 2;
  c.forced_bos_token_id = 1;
  c.forced_eos_token_id = {2};
  c.remove_invalid_values = true;
  c.exponential_decay_length_penalty = std::pair<std::int64_t, double>(3, 1.1);
  c.suppress_tokens = std::vector<std::int64_t>{7};
  c.begin_suppress_tokens = std::vector<std::int64_t>{8};
  c.forced_decoder_ids = std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>{{1, 9}};
  c.sequence_bias = std::vector<std::pair<std::vector<std::int64_t>, double>>{{{4}, -1.0}};
  c.renormalize_logits = true;
  c.encoder_repetition_penalty = 1.1;
  const auto names = get_logits_processor(c, 4, nullptr, false).names();
  const std::vector<std::string> expected = {
      "SequenceBiasLogitsProcessor", "EncoderRepetitionPenaltyLogitsProcessor", "RepetitionPenaltyLogitsProcessor",
      "NoRepeatNGramLogitsProcessor", "NoBadWordsLogitsProcessor", "MinLengthLogitsProcessor",
      "MinNewTokensLengthLogitsProcessor", "ForcedBOSTokenLogitsProcessor", "ForcedEOSTokenLogitsProcessor",
      "InfNanRemoveLogitsProcessor", "ExponentialDecayLengthPenalty", "SuppressTokensLogitsProcessor",
      "SuppressTokensAtBeginLogitsProcessor", "ForceTokensLogitsProcessor", "LogitNormalization"};
  EXPECT_EQ(names, expected);
  c.encoder_no_repeat_ngram_size = 2;
  try {
    get_logits_processor(c, 4, nullptr, false);
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "It's impossible to use `encoder_no_repeat_ngram_size` with decoder-only architecture");
  }
  // Warpers: order, the default top_k 50, min_tokens_to_keep 2 with beams.
  GenerationConfig s;
  s.do_sample = true;
  s.temperature = 0.5;
  s.top_p = 0.9;
  s.typical_p = 0.9;
  s.epsilon_cutoff = 0.01;
  s.eta_cutoff = 0.01;
  EXPECT_EQ(get_logits_warper(s).names(),
            (std::vector<std::string>{"TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper",
                                      "TypicalLogitsWarper", "EpsilonLogitsWarper", "EtaLogitsWarper"}));
}

TEST(LogitsProcessors, BadArgumentsAreTransformersErrors) {
  auto message = [](auto make) {
    try {
      make();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { TemperatureLogitsWarper(-0.5); }), "`temperature` has to be a strictly positive float, but is -0.5");
  EXPECT_EQ(message([] { TopKLogitsWarper(0); }), "`top_k` has to be a strictly positive integer, but is 0");
  EXPECT_EQ(message([] { TopPLogitsWarper(1.5); }), "`top_p` has to be a float > 0 and < 1, but is 1.5");
  EXPECT_EQ(message([] { TypicalLogitsWarper(0.0); }), "`typical_p` has to be a float > 0 and < 1, but is 0.0");
  EXPECT_EQ(message([] { RepetitionPenaltyLogitsProcessor(0.0); }), "`penalty` has to be a strictly positive float, but is 0.0");
  EXPECT_EQ(message([] { NoRepeatNGramLogitsProcessor(0); }), "`ngram_size` has to be a strictly positive integer, but is 0");
  EXPECT_EQ(message([] { NoBadWordsLogitsProcessor({{1, -2}}, {0}); }),
            "Each list in `bad_words_ids` has to be a list of positive integers, but is [[1, -2]].");
  // A token id outside the vocabulary is an error, not a write out of bounds.
  std::vector<float> scores(4, 0.0f);
  TokenMatrix ids({1, 9}, 1, 2);
  EXPECT_THROW(RepetitionPenaltyLogitsProcessor(1.2)(ids, ScoresRef{scores.data(), 1, 4}, {}), InvalidArgument);
  EXPECT_THROW(SuppressTokensLogitsProcessor({4})(ids, ScoresRef{scores.data(), 1, 4}, {}), InvalidArgument);
  SequenceBiasLogitsProcessor bias({{{9}, 1.0}});
  EXPECT_EQ(message([&] { bias(ids, ScoresRef{scores.data(), 1, 4}, {}); }),
            "The model vocabulary size is 4, but the following tokens were being biased: [9]");
}

TEST(LogitsProcessors, SequenceBiasAndHammingDiversity) {
  // [1, 2] -> +2 on 2 after a 1; [3] -> -1 everywhere.
  SequenceBiasLogitsProcessor bias({{{1, 2}, 2.0}, {{3}, -1.0}});
  std::vector<float> scores(8, 0.0f);
  TokenMatrix ids({0, 1, 1, 0}, 2, 2);
  bias(ids, ScoresRef{scores.data(), 2, 4}, {});
  EXPECT_EQ(scores, (std::vector<float>{0, 0, 2, -1, 0, 0, 0, -1}));
  // Group 1 of 2 (2 beams per group): tokens chosen by group 0 at this step lose 0.5 per use.
  HammingDiversityLogitsProcessor hamming(0.5, 4, 2);
  std::vector<float> s(8, 1.0f);
  std::vector<std::int64_t> current = {3, 3, 0, 0};
  hamming(ids, ScoresRef{s.data(), 2, 4}, ProcessorContext{current, 1});
  EXPECT_EQ(s, (std::vector<float>{1, 1, 1, 0, 1, 1, 1, 0}));
}

}  // namespace
}  // namespace ortformers::testing
