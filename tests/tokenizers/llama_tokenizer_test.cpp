// LlamaTokenizer (transformers 4.31 slow tokenizer, legacy=True) from the Llama-2 tokenizer.model of
// ../shared/fixtures/models/llama-tiny: folder loading, SentencePiece BPE with byte fallback, special tokens in the
// text, decoding, and bad input. The reference encodings themselves are checked by reference_tokenization_test.cpp.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;
namespace fs = std::filesystem;

namespace {

std::vector<std::int64_t> ids_of(const PreTrainedTokenizer& tok, const std::string& text, bool special) {
  TokenizeOptions o;
  o.add_special_tokens = special;
  return tok.encode(text, o).ids;
}

// A copy of the llama-tiny tokenizer files in a temporary folder, tokenizer_config.json changed by `edit`.
fs::path llama_copy(const fs::path& fixtures, const std::function<void(Json&)>& edit) {
  const fs::path src = fixtures / "models" / "llama-tiny";
  const fs::path tmp = ortformers::testing::make_temp_dir("llama_tok");
  fs::copy_file(src / "tokenizer.model", tmp / "tokenizer.model");
  fs::copy_file(src / "special_tokens_map.json", tmp / "special_tokens_map.json");
  Json cfg = read_json_file(src / "tokenizer_config.json");
  edit(cfg);
  std::ofstream(tmp / "tokenizer_config.json") << cfg.dump();
  return tmp;
}

TEST(LlamaTokenizer, LoadsFromModelAndOnnxFolders) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* sub : {"models", "onnx"}) {
    const PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(fixtures / sub / "llama-tiny");
    EXPECT_EQ(tok.tokenizer_class(), "LlamaTokenizer") << sub;
    EXPECT_EQ(tok.backend().model().type(), "SentencePieceBPE") << sub;
    EXPECT_EQ(tok.backend().get_vocab_size(), 32000u) << sub;
    EXPECT_EQ(tok.padding_side(), PaddingDirection::Left) << sub;
    EXPECT_EQ(tok.pad_token_id(), std::optional<std::int64_t>(0)) << sub;  // pad = <unk>, as saved
    EXPECT_EQ(tok.special_token_id("bos_token"), std::optional<std::int64_t>(1)) << sub;
    EXPECT_EQ(tok.special_token_id("eos_token"), std::optional<std::int64_t>(2)) << sub;
    EXPECT_FALSE(tok.clean_up_tokenization_spaces()) << sub;
    EXPECT_EQ(tok.model_input_names(), (std::vector<std::string>{"input_ids", "attention_mask"})) << sub;
  }
}

TEST(LlamaTokenizer, ByteFallbackRoundTrip) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(fixtures / "models" / "llama-tiny");
  // Texts whose characters are partly no Llama-2 piece (emoji, rare CJK, control characters) or whitespace runs.
  const std::vector<std::string> texts = {"Hello 😀 world",
                                          "naïve café, 日本語のテキスト 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
                                          "tabs\tand\nnew lines\n\n",
                                          "a  b   c    d",
                                          "🦙🦙 llama 🦙",
                                          "x\u200by \u00a0z"};
  for (const auto& text : texts) {
    const auto ids = ids_of(tok, text, true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), 1) << text;  // <s>
    // sp_model.decode drops the dummy prefix: the text comes back exactly.
    EXPECT_EQ(tok.decode(ids, true), text) << text;
    EXPECT_EQ(tok.decode(ids), "<s>" + text) << text;
    // No unknown token: every character is a piece or its UTF-8 bytes as <0xNN> pieces.
    for (auto id : ids) EXPECT_NE(id, 0) << text;
  }
  // The emoji is no piece: its four UTF-8 bytes are the byte pieces, in order.
  const std::string emoji = "\xF0\x9F\x98\x80";
  const auto tokens = tok.convert_ids_to_tokens(ids_of(tok, emoji, false));
  std::vector<std::string> byte_tokens;
  for (unsigned char c : emoji) {
    char code[8];
    std::snprintf(code, sizeof(code), "<0x%02X>", c);
    byte_tokens.push_back(code);
  }
  ASSERT_GE(tokens.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(tokens.end() - 4, tokens.end()), byte_tokens);
  // An incomplete UTF-8 sequence decodes to U+FFFD per byte, as sentencepiece does.
  const auto one = ids_of(tok, emoji, false);
  EXPECT_EQ(tok.decode(std::vector<std::int64_t>(one.begin(), one.end() - 2)).substr(0),
            tok.decode(std::vector<std::int64_t>(one.begin(), one.end() - 4)) + "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LlamaTokenizer, SpecialTokensSplitTheText) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(fixtures / "models" / "llama-tiny");
  // 4.31's tokenize() splits on special tokens first; every chunk gets SentencePiece's dummy prefix.
  const auto ids = ids_of(tok, "Hello</s>world", false);
  std::vector<std::int64_t> expected = ids_of(tok, "Hello", false);
  expected.push_back(2);
  const auto world = ids_of(tok, "world", false);
  expected.insert(expected.end(), world.begin(), world.end());
  EXPECT_EQ(ids, expected);
  // convert_tokens_to_string: a space before a special token that follows a non-special one (not at position 0),
  // none after it; the run after it is decoded by sp_model.decode, which drops its dummy prefix.
  std::vector<std::int64_t> with_bos = {1};
  with_bos.insert(with_bos.end(), ids.begin(), ids.end());
  EXPECT_EQ(tok.decode(with_bos), "<s> Hello</s>world");
  EXPECT_EQ(tok.decode(with_bos, true), "Hello world");  // one sp_model.decode run once </s> is skipped
  // The pair template: <s> A <s> B.
  const auto pair = tok(std::vector<std::string>{"a"}, std::vector<std::string>{"b"}).encodings.at(0).ids;
  const auto a = ids_of(tok, "a", false), b = ids_of(tok, "b", false);
  std::vector<std::int64_t> pair_expected = {1};
  pair_expected.insert(pair_expected.end(), a.begin(), a.end());
  pair_expected.push_back(1);
  pair_expected.insert(pair_expected.end(), b.begin(), b.end());
  EXPECT_EQ(pair, pair_expected);
  // Empty text: only <s>.
  EXPECT_EQ(ids_of(tok, "", true), std::vector<std::int64_t>{1});
}

TEST(LlamaTokenizer, AddBosAndEosFromConfig) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = llama_copy(fixtures, [](Json& c) {
    c["add_bos_token"] = false;
    c["add_eos_token"] = true;
  });
  const PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(dir);
  const auto ids = ids_of(tok, "The capital of France is", true);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{450, 7483, 310, 3444, 338, 2}));
  // A left-padded batch pads with <unk> (id 0) on the left.
  TokenizeOptions o;
  o.padding = Padding::Longest;
  const auto batch = tok({"The capital of France is", "Hello"}, o);
  EXPECT_EQ(batch.encodings[1].ids.front(), 0);
  EXPECT_EQ(batch.encodings[1].attention_mask.front(), 0);
  EXPECT_EQ(batch.encodings[1].ids.back(), 2);
}

TEST(LlamaTokenizer, BadInput) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // legacy=false (the non-legacy 4.31 handling of "▁" after special tokens) is refused, not silently different.
  const fs::path non_legacy = llama_copy(fixtures, [](Json& c) { c["legacy"] = false; });
  EXPECT_THROW(AutoTokenizer::from_pretrained(non_legacy), UnsupportedError);
  // A truncated tokenizer.model is a FileFormatError naming the file.
  const fs::path broken = llama_copy(fixtures, [](Json&) {});
  {
    std::ifstream in(broken / "tokenizer.model", std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(broken / "tokenizer.model", std::ios::binary | std::ios::trunc) << data.substr(0, data.size() / 2);
  }
  try {
    AutoTokenizer::from_pretrained(broken);
    ADD_FAILURE() << "expected FileFormatError";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }
  // Invalid UTF-8 in the input is an InvalidArgument (as everywhere in this library), not a crash.
  const PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(fixtures / "models" / "llama-tiny");
  EXPECT_THROW(ids_of(tok, std::string("a\xFF\x80z"), false), InvalidArgument);
  // Out-of-range ids are an error in convert_ids_to_tokens.
  EXPECT_THROW(tok.convert_ids_to_tokens(std::vector<std::int64_t>{32000}), InvalidArgument);
}

}  // namespace
