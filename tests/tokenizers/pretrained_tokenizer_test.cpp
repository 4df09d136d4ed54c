// transformers-level behaviour of PreTrainedTokenizer: padding / truncation options, tensors, overflow rows,
// special tokens, decode with clean-up, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;

TEST(PreTrainedTokenizer, BertFolderPaddingTruncationTensors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tok = AutoTokenizer::from_pretrained(fixtures / "models" / "bert-tiny");
  EXPECT_EQ(tok.model_max_length(), 512u);
  EXPECT_TRUE(tok.do_lower_case());
  EXPECT_EQ(tok.mask_token(), "[MASK]");
  EXPECT_EQ(tok.mask_token_id(), 103);
  EXPECT_EQ(tok.pad_token_id(), 0);
  EXPECT_EQ(tok.cls_token_id(), 101);
  EXPECT_EQ(tok.model_input_names(), (std::vector<std::string>{"input_ids", "token_type_ids", "attention_mask"}));

  TokenizeOptions o;
  o.padding = Padding::Longest;
  const auto b = tok({"Hello world!", "A much longer sentence than the first one."}, o);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.encodings[0].size(), b.encodings[1].size());
  EXPECT_EQ(b.encodings[0].ids.front(), 101);
  EXPECT_EQ(b.encodings[0].ids.back(), 0);
  EXPECT_EQ(b.encodings[0].attention_mask.back(), 0);
  const TensorMap t = b.to_tensors();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.at("input_ids").shape(), (Shape{2, static_cast<std::int64_t>(b.encodings[0].size())}));

  // padding="max_length" with max_length, and truncation=True with max_length (special tokens counted).
  o.padding = Padding::MaxLength;
  o.max_length = 8;
  o.truncation = true;
  const auto c = tok({"one two three four five six seven eight nine ten", "short"}, o);
  EXPECT_EQ(c.encodings[0].size(), 8u);
  EXPECT_EQ(c.encodings[1].size(), 8u);
  EXPECT_EQ(c.encodings[0].ids.back(), 102);
  EXPECT_TRUE(c.overflow_to_sample_mapping.empty());

  // return_overflowing_tokens: every window is a row, mapped to its input.
  o.padding = Padding::Longest;
  o.stride = 2;
  o.return_overflowing_tokens = true;
  const auto d = tok({"one two three four five six seven eight nine ten", "short"}, o);
  ASSERT_GT(d.size(), 2u);
  EXPECT_EQ(d.overflow_to_sample_mapping.size(), d.size());
  EXPECT_EQ(d.overflow_to_sample_mapping.front(), 0);
  EXPECT_EQ(d.overflow_to_sample_mapping.back(), 1);
  for (const auto& e : d.encodings) EXPECT_EQ(e.size(), 8u);

  // Pairs: token_type_ids 0 then 1.
  TokenizeOptions p;
  const auto e = tok({"question here"}, {"the context"}, p);
  EXPECT_EQ(e.encodings[0].type_ids, (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1}));

  // No padding, different lengths: to_tensors refuses.
  EXPECT_THROW(tok({"a", "a b c d"}).to_tensors(), InvalidArgument);
}

TEST(PreTrainedTokenizer, DecodeCleanUpAndSpecialTokens) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tok = AutoTokenizer::from_pretrained(fixtures / "models" / "bert-tiny");
  const auto enc = tok.encode("Hello , world ! Y' all do n't");
  EXPECT_EQ(tok.decode(enc.ids, true), "hello, world! y'all don't");
  EXPECT_EQ(tok.decode(enc.ids, false, false).rfind("[CLS] hello", 0), 0u);
  EXPECT_EQ(tok.convert_ids_to_tokens(std::vector<std::int64_t>{101, 7592}),
            (std::vector<std::string>{"[CLS]", "hello"}));
}

TEST(PreTrainedTokenizer, RobertaHasNoTokenTypeIds) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto tok = AutoTokenizer::from_pretrained(fixtures / "models" / "roberta-tiny");
  EXPECT_EQ(tok.model_input_names(), (std::vector<std::string>{"input_ids", "attention_mask"}));
  const auto t = tok({"Hello world"}).to_tensors();
  EXPECT_EQ(t.count("token_type_ids"), 0u);
  EXPECT_EQ(t.count("attention_mask"), 1u);
}

TEST(Tokenizer, ErrorsAreClear) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  Tokenizer tok = Tokenizer::from_file(fixtures / "tokenizers" / "bert-base-uncased" / "tokenizer.json");
  EXPECT_THROW(tok.encode(std::string("bad \xC3\x28 utf8")), InvalidArgument);
  TruncationParams t;
  t.max_length = 6;
  t.stride = 4;  // 6 - 2 special tokens = 4 <= stride: the Rust library panics here
  tok.set_truncation(t);
  EXPECT_THROW(tok.encode("one two three four five six seven"), InvalidArgument);
  t.strategy = TruncationStrategy::OnlySecond;
  t.stride = 0;
  tok.set_truncation(t);
  EXPECT_THROW(tok.encode("one two three four five six seven"), InvalidArgument);
  EXPECT_THROW(Tokenizer::from_json(std::string("{\"model\": {\"type\": \"Nope\"}}")), UnsupportedError);
  EXPECT_THROW(Tokenizer::from_json(std::string("{not json")), FileFormatError);
  EXPECT_THROW(Tokenizer::from_json(
                   std::string("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}")),
               FileFormatError);
  EXPECT_THROW(AutoTokenizer::from_pretrained("/nonexistent/folder"), NotFoundError);
}

TEST(Tokenizer, BatchUsesThreadsAndMatchesSingle) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Tokenizer tok = Tokenizer::from_file(fixtures / "tokenizers" / "roberta-base" / "tokenizer.json");
  std::vector<EncodeInput> in;
  for (int i = 0; i < 64; ++i) in.emplace_back("sentence number " + std::to_string(i) + " with some words");
  const auto batch = tok.encode_batch(in, true, 4);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(batch[i].ids, tok.encode(in[i].text).ids);
  // Byte offsets are available next to the code-point offsets.
  const auto e = tok.encode("caf\xC3\xA9 ok", false);
  EXPECT_EQ(e.offsets.back(), (std::pair<std::size_t, std::size_t>{5, 7}));
  EXPECT_EQ(e.byte_offsets.back(), (std::pair<std::size_t, std::size_t>{6, 8}));
}

// A tokenizer.json whose whole content is a relative path (as git writes a symlink on a checkout without symlink
// support) is not followed: it is not JSON, so loading fails with a file-format error naming the file, even when the
// path leads to a valid tokenizer.json.
TEST(AutoTokenizer, PathOnlyTokenizerJsonIsRejected) {
  namespace fs = std::filesystem;
  const fs::path root = ortformers::testing::make_temp_dir("tok_path_only");
  fs::create_directories(root / "vocab" / "real");
  fs::create_directories(root / "models" / "m");
  const fs::path real = root / "vocab" / "real" / "tokenizer.json";
  std::ofstream(real) << R"({"version": "1.0", "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1},
                           "unk_token": "[UNK]"}, "pre_tokenizer": {"type": "Whitespace"}})";
  ASSERT_EQ(Tokenizer::from_file(real).encode("hello").ids, (std::vector<std::int64_t>{1}));
  const fs::path pointer = root / "models" / "m" / "tokenizer.json";
  std::ofstream(pointer) << "../../vocab/real/tokenizer.json\n";
  for (const fs::path& p : {pointer, pointer.parent_path()}) {
    try {
      (void)AutoTokenizer::from_pretrained(p);
      ADD_FAILURE() << "a path-only tokenizer.json was accepted: " << p;
    } catch (const FileFormatError& e) {
      EXPECT_NE(std::string(e.what()).find(pointer.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Tokenizer::from_file(pointer), FileFormatError);
}
