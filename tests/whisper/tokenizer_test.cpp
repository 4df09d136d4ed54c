// Whisper tokenizer decoding: the generate() texts of whisper-tiny.json (batch_decode, skip_special_tokens), timestamps
// as text and offsets, and _find_longest_common_sequence.
#include <gtest/gtest.h>

#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "ortformers/tokenizers/whisper.hpp"
#include "whisper/whisper_support.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;
using namespace ortformers::testing::whisper;

namespace {

WhisperDecodeOptions skip_special(bool with_timestamps = false) {
  WhisperDecodeOptions o;
  o.skip_special_tokens = true;
  o.decode_with_timestamps = with_timestamps;
  return o;
}

TEST(WhisperTokenizer, GenerateTextsMatchBatchDecode) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tok = AutoTokenizer::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  int checked = 0;
  for (const auto& g : reference(fixtures).at("generate")) {
    const auto& seqs = g.at("sequences");
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const auto ids = seqs[i].get<std::vector<std::int64_t>>();
      EXPECT_EQ(whisper_decode(tok, ids, skip_special()), g.at("texts")[i].get<std::string>()) << g.at("id");
      ++checked;
    }
  }
  EXPECT_GE(checked, 12);
}

TEST(WhisperTokenizer, TimestampsAsTextAndOffsets) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tok = AutoTokenizer::from_pretrained(fixtures / "onnx" / "whisper-tiny");
  EXPECT_EQ(whisper_timestamp_begin(tok), 50364);
  // <|startoftranscript|><|en|><|transcribe|> <|0.00|> " ginger ginger" <|1.00|> <|1.00|> " Crist" <|2.40|> eos
  const std::vector<std::int64_t> ids = {50258, 50259, 50359, 50364, 14966, 14966, 50414, 50414, 23199, 50484, 50257};
  EXPECT_EQ(whisper_decode(tok, ids, skip_special(true)), "<|0.00|> ginger ginger<|1.00|><|1.00|> Crist<|2.40|>");
  EXPECT_EQ(whisper_decode(tok, ids, skip_special()), " ginger ginger Crist");
  const auto offsets = whisper_compute_offsets(tok, ids);
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0].text, " ginger ginger");
  EXPECT_DOUBLE_EQ(offsets[0].start, 0.0);
  EXPECT_DOUBLE_EQ(offsets[0].end, 1.0);
  EXPECT_EQ(offsets[1].text, " Crist");
  EXPECT_DOUBLE_EQ(offsets[1].start, 1.0);
  EXPECT_NEAR(offsets[1].end, 2.4, 1e-12);
  EXPECT_TRUE(whisper_compute_offsets(tok, std::vector<std::int64_t>{50258, 14966}).empty());
}

TEST(WhisperTokenizer, LongestCommonSequenceMergesOverlaps) {
  // transformers' docstring example: the overlap [c, d] is kept once.
  EXPECT_EQ(find_longest_common_sequence({{1, 2, 3, 4}, {3, 4, 5}}), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  // A single match is not enough (matches > 1): the left half of the left sequence and the right one are joined.
  EXPECT_EQ(find_longest_common_sequence({{1, 2}, {3, 4}}), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(find_longest_common_sequence({{7, 8, 9, 10}, {9, 10, 11, 12}, {11, 12, 13}}),
            (std::vector<std::int64_t>{7, 8, 9, 10, 11, 12, 13}));
  EXPECT_TRUE(find_longest_common_sequence({}).empty());
}

TEST(WhisperTokenizer, LanguageTable) {
  EXPECT_EQ(whisper_languages().size(), 99u);
  EXPECT_EQ(whisper_language_name("en").value_or(""), "english");
  EXPECT_FALSE(whisper_language_name("startoftranscript"));
  EXPECT_EQ(whisper_to_language_code().back().first, "castilian");
}

}  // namespace
