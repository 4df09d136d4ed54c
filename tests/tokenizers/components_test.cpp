// Component behaviours not covered by the fixture tokenizers (cases from the Rust library's own unit tests).
#include <gtest/gtest.h>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/decoders.hpp"
#include "ortformers/tokenizers/pre_tokenizers.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;

namespace {
std::vector<std::pair<std::string, Offsets>> pieces(const PreTokenizer& p, const std::string& text) {
  PreTokenizedString s(text);
  p.pre_tokenize(s);
  std::vector<std::pair<std::string, Offsets>> out;
  for (const auto& x : s.splits()) out.push_back({x.normalized.get(), x.normalized.offsets_original()});
  return out;
}
}  // namespace

TEST(Components, UnicodeScripts) {
  const auto p = pre_tokenizer_from_json(Json::parse(R"({"type":"UnicodeScripts"})"));
  const auto v = pieces(*p, "\xE3\x81\xA9\xE3\x81\x93\xE3\x81\xA7\xE7\x94\x9F\xE3\x82\x8C\xE3\x80\x82Yes");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].second, (Offsets{0, 15}));
  EXPECT_EQ(v[1].second, (Offsets{15, 18}));
  EXPECT_EQ(v[2].first, "Yes");
}

TEST(Components, SplitBehaviours) {
  auto split = [](const char* behavior, bool invert) {
    Json j = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    std::vector<std::string> out;
    for (const auto& [s, o] : pieces(*pre_tokenizer_from_json(j), "the-final--countdown")) out.push_back(s);
    return out;
  };
  EXPECT_EQ(split("Removed", false), (std::vector<std::string>{"the", "final", "countdown"}));
  EXPECT_EQ(split("Isolated", false), (std::vector<std::string>{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithPrevious", false), (std::vector<std::string>{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithNext", false), (std::vector<std::string>{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("Contiguous", false), (std::vector<std::string>{"the", "-", "final", "--", "countdown"}));
}

TEST(Components, Decoders) {
  const auto ctc =
      decoder_from_json(Json::parse(R"({"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true})"));
  EXPECT_EQ(ctc->decode({"<pad>", "h", "e", "e", "l", "l", "<pad>", "l", "o", "|", "w", "o", "r", "l", "d"}),
            "hello world");
  const auto bpe = decoder_from_json(Json::parse(R"({"type":"BPEDecoder","suffix":"</w>"})"));
  EXPECT_EQ(bpe->decode({"my</w>", "na", "me</w>"}), "my name");
  const auto fb = decoder_from_json(Json::parse(R"({"type":"ByteFallback"})"));
  EXPECT_EQ(fb->decode({"<0xE5>", "<0x8F>", "<0xAB>", "a"}),
            "\xE5\x8F\xAB"
            "a");
  EXPECT_EQ(fb->decode({"<0xE5>", "<0x8F>", "a"}),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
}

TEST(Components, MalformedTemplateIsAnError) {
  // Found by fuzz/tokenizer_load.cpp: an out-of-range type id escaped as std::out_of_range.
  const std::string j = R"({"model":{"type":"WordLevel","vocab":{"a":0},"unk_token":"a"},
    "post_processor":{"type":"TemplateProcessing","single":"$A:99999999999999999999999","pair":"$A $B","special_tokens":{}}})";
  EXPECT_THROW(Tokenizer::from_json(j), Error);
}
