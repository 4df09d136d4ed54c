// GenerationConfig: reading the model folders' files, from_model_config, update(), validate()'s errors and warnings.
#include <gtest/gtest.h>

#include "generation/test_util.hpp"
#include "ortformers/generation/generation_config.hpp"

namespace ortformers::testing {
namespace {

using namespace ortformers::generation;

std::string validate_error(const Json& kwargs) {
  GenerationConfig c;
  c.update(kwargs);
  try {
    c.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(GenerationConfig, Defaults) {
  GenerationConfig c;
  EXPECT_EQ(c.max_length, 20);
  EXPECT_EQ(c.top_k, 50);
  EXPECT_EQ(c.num_beams, 1);
  EXPECT_EQ(c.early_stopping, EarlyStopping::False);
  EXPECT_FALSE(c.max_new_tokens);
  EXPECT_TRUE(c.eos_token_id.empty());
  EXPECT_TRUE(c.to_json().empty());
}

TEST(GenerationConfig, FromPretrainedFixtures) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto gpt2 = GenerationConfig::from_pretrained(fixtures / "models" / "gpt2-tiny");
  EXPECT_EQ(gpt2.bos_token_id, 50256);
  EXPECT_EQ(gpt2.eos_token_id, std::vector<std::int64_t>{50256});
  EXPECT_EQ(gpt2.pad_token_id, 50256);
  auto bart = GenerationConfig::from_pretrained(fixtures / "models" / "bart-tiny");
  EXPECT_EQ(bart.num_beams, 4);
  EXPECT_EQ(bart.no_repeat_ngram_size, 3);
  EXPECT_EQ(bart.length_penalty, 2.0);
  EXPECT_EQ(bart.min_length, 4);
  EXPECT_EQ(bart.early_stopping, EarlyStopping::True);
  EXPECT_EQ(bart.forced_bos_token_id, 0);
  EXPECT_EQ(bart.forced_eos_token_id, std::vector<std::int64_t>{2});
  auto whisper = GenerationConfig::from_pretrained(fixtures / "models" / "whisper-tiny");
  ASSERT_TRUE(whisper.forced_decoder_ids);
  EXPECT_EQ(whisper.forced_decoder_ids->size(), 2u);
  EXPECT_FALSE((*whisper.forced_decoder_ids)[0].second);  // [1, null]
  EXPECT_EQ((*whisper.forced_decoder_ids)[1].second, 50359);
  ASSERT_TRUE(whisper.begin_suppress_tokens);
  EXPECT_EQ(*whisper.begin_suppress_tokens, (std::vector<std::int64_t>{220, 50257}));
  // config.json only: from_model_config.
  const auto dir = make_temp_dir("genconfig");
  write_text_file(dir / "config.json", R"({"model_type": "gpt2", "bos_token_id": 5, "eos_token_id": [6, 7],
    "n_positions": 128, "decoder": {"num_beams": 3, "bos_token_id": 9}})");
  auto derived = GenerationConfig::from_pretrained(dir);
  EXPECT_EQ(derived.bos_token_id, 5);
  EXPECT_EQ(derived.eos_token_id, (std::vector<std::int64_t>{6, 7}));
  EXPECT_EQ(derived.num_beams, 3);  // unset at the top level: taken from the decoder sub-config
  std::filesystem::remove_all(dir);
  EXPECT_THROW(GenerationConfig::from_pretrained(fixtures / "does-not-exist"), NotFoundError);
}

TEST(GenerationConfig, UpdateReturnsUnknownKeys) {
  GenerationConfig c;
  const Json unused = c.update(Json::parse(R"({"max_new_tokens": 5, "top_k": null, "early_stopping": "never",
      "eos_token_id": [1, 2], "sequence_bias": {"[3, 4]": -2.5}, "foo": 1, "seed": 42})"));
  EXPECT_EQ(unused, Json::parse(R"({"foo": 1})"));
  EXPECT_EQ(c.max_new_tokens, 5);
  EXPECT_FALSE(c.top_k);
  EXPECT_EQ(c.early_stopping, EarlyStopping::Never);
  EXPECT_EQ(c.eos_token_id, (std::vector<std::int64_t>{1, 2}));
  ASSERT_TRUE(c.sequence_bias);
  EXPECT_EQ((*c.sequence_bias)[0].first, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(c.seed, 42u);
  EXPECT_THROW(c.update(Json::parse(R"({"num_beams": "four"})")), InvalidArgument);
  try {
    c.update(Json::parse(R"({"early_stopping": "sometimes"})"));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "`early_stopping` must be a boolean or 'never', but is \"sometimes\".");
  }
  // to_json round trip.
  GenerationConfig back = GenerationConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
}

TEST(GenerationConfig, ValidationErrors) {
  EXPECT_EQ(validate_error(Json::parse(R"({"max_new_tokens": 0})")), "`max_new_tokens` must be greater than 0, but is 0.");
  EXPECT_EQ(validate_error(Json::parse(R"({"max_new_tokens": -3})")), "`max_new_tokens` must be greater than 0, but is -3.");
  EXPECT_EQ(validate_error(Json::parse(R"({"do_sample": true, "temperature": -1.0})")),
            "`temperature` has to be a strictly positive float, but is -1.0");
  EXPECT_EQ(validate_error(Json::parse(R"({"do_sample": true, "temperature": 0})")),
            "`temperature` has to be a strictly positive float, but is 0.0");
  EXPECT_EQ(validate_error(Json::parse(R"({"do_sample": true, "top_p": 1.5})")),
            "`top_p` has to be a float > 0 and < 1, but is 1.5");
  EXPECT_EQ(validate_error(Json::parse(R"({"do_sample": true, "top_p": -0.1})")),
            "`top_p` has to be a float > 0 and < 1, but is -0.1");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 2, "num_return_sequences": 3})")),
            "`num_return_sequences` has to be smaller or equal to `num_beams`.");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_return_sequences": 2})")),
            "num_return_sequences has to be 1 when doing greedy search, but is 2.");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 4, "num_beam_groups": 3, "diversity_penalty": 1.0})")),
            "`num_beams` should be divisible by `num_beam_groups` for group beam search.");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 4, "num_beam_groups": 2})")),
            "`diversity_penalty` should be greater than `0.0`, otherwise your beam groups will be identical.");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 2, "num_beam_groups": 4, "diversity_penalty": 1.0})")),
            "`num_beam_groups` has to be smaller or equal to `num_beams`");
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 4, "num_beam_groups": 2, "diversity_penalty": 1.0, "do_sample": true})")),
            "Diverse beam search cannot be used in sampling mode. Make sure that `do_sample` is set to `False`.");
  EXPECT_NE(validate_error(Json::parse(R"({"num_beams": 4, "diversity_penalty": 1.0})")).find("`num_beam_groups` is 1"),
            std::string::npos);
  EXPECT_EQ(validate_error(Json::parse(R"({"repetition_penalty": 0.0})")),
            "`penalty` has to be a strictly positive float, but is 0.0");
  EXPECT_EQ(validate_error(Json::parse(R"({"bad_words_ids": []})")), "`bad_words_ids` has to be a non-empty list, but is [].");
  // Refused modes say why.
  EXPECT_NE(validate_error(Json::parse(R"({"penalty_alpha": 0.6, "top_k": 4})")).find("hidden states"), std::string::npos);
  EXPECT_NE(validate_error(Json::parse(R"({"force_words_ids": [[5]], "num_beams": 2})")).find("not supported"),
            std::string::npos);
  EXPECT_NE(validate_error(Json::parse(R"({"guidance_scale": 1.5})")).find("not supported"), std::string::npos);
  EXPECT_EQ(validate_error(Json::parse(R"({"num_beams": 4, "num_return_sequences": 4})")), "no error");
}

TEST(GenerationConfig, ValidationWarnings) {
  GenerationConfig c;
  c.update(Json::parse(R"({"temperature": 0.7, "top_p": 0.9, "length_penalty": 2.0})"));
  std::vector<std::string> warnings;
  c.validate(&warnings);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0],
            "`do_sample` is set to `False`. However, `temperature` is set to `0.7` -- this flag is only used in "
            "sample-based generation modes. You should set `do_sample=True` or unset `temperature`.");
  EXPECT_NE(warnings[2].find("`num_beams` is set to 1. However, `length_penalty` is set to `2.0`"), std::string::npos);
}

}  // namespace
}  // namespace ortformers::testing
