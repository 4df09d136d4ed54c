// DeBERTa-v2 (spm.model + added_tokens.json), XLM-RoBERTa (sentencepiece.bpe.model) and MPNet (vocab.txt) folders
// without tokenizer.json: AutoTokenizer reproduces every `tokenization` entry of their reference JSON (made by the
// slow transformers 4.31 tokenizers: ids, tokens, type ids, mask), from the model folder and from its optimum export.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"
#include "support/reference_tokenization.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;
namespace fs = std::filesystem;

namespace {

int check_folder(const Json& ref, const fs::path& dir) {
  PreTrainedTokenizer tok = AutoTokenizer::from_pretrained(dir);
  const std::string name = ref["name"].get<std::string>();
  EXPECT_EQ(Json(tok.model_input_names()), ref["tokenizer"]["model_input_names"]) << name;
  EXPECT_EQ(tok.tokenizer_class(), ref["tokenizer"]["class"].get<std::string>()) << name;
  // len(tokenizer) and the special token ids.
  EXPECT_EQ(tok.backend().get_vocab_size(true), ref["tokenizer"]["len"].get<std::size_t>()) << name;
  for (auto it = ref["tokenizer"]["special_tokens"].begin(); it != ref["tokenizer"]["special_tokens"].end(); ++it) {
    const auto id = tok.convert_tokens_to_ids(it.key());
    // A special token that is not in the vocabulary ([UNK] of DeBERTa-v3) is the unknown id.
    EXPECT_EQ(id.value_or(tok.special_token_id("unk_token").value_or(-1)), it.value().get<std::int64_t>())
        << name << " " << it.key();
  }
  int idx = 0, identical = 0;
  for (const auto& r : ortformers::testing::compare_reference_tokenizations(ref, tok)) {
    EXPECT_TRUE(r.diff.empty()) << name << " (" << dir.filename() << ") tokenization[" << idx << "] "
                                << Json(r.text).dump().substr(0, 120) << ":" << r.diff.substr(0, 1500);
    identical += r.diff.empty();
    ++idx;
  }
  std::printf("[families-text] %s (%s): %d/%d tokenizations identical\n", name.c_str(),
              dir.parent_path().filename().c_str(), identical, idx);
  return idx;
}

class FamilyTokenization : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyTokenization, ModelAndOnnxFoldersMatchSlowReference) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / (GetParam() + ".json"));
  const fs::path model_dir = fixtures / ref["model_dir"].get<std::string>();
  ASSERT_FALSE(fs::exists(model_dir / "tokenizer.json")) << "this test is about folders without tokenizer.json";
  EXPECT_GT(check_folder(ref, model_dir), 10);
  for (auto it = ref["onnx"].begin(); it != ref["onnx"].end(); ++it) check_folder(ref, fixtures / it.value()["dir"]);
}

// `ortformers export` copies the tokenizer files (spm.model, added_tokens.json, sentencepiece.bpe.model) next to
// model.onnx, so the exported folder tokenizes as the checkpoint folder.
TEST_P(FamilyTokenization, NativeExportFolderKeepsTheTokenizer) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / (GetParam() + ".json"));
  const fs::path out = ortformers::testing::make_temp_dir("families_export_tok");
  exporters::export_model(fixtures / ref["model_dir"].get<std::string>(), out);
  EXPECT_GT(check_folder(ref, out), 10);
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyTokenization,
                         ::testing::Values("deberta-v3-tiny", "deberta-v3-tiny-nli", "xlm-roberta-tiny",
                                           "xlm-roberta-tiny-st", "mpnet-tiny-st"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Special tokens inside the text are split out before SentencePiece, which then encodes each side on its own
// (dummy prefix, surrounding spaces dropped), as the slow tokenizers do.
TEST(FamilyTokenizationRules, SpecialTokensInTextAndWhitespace) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto deberta = AutoTokenizer::from_pretrained(fixtures / "models" / "deberta-v3-tiny");
  auto a = deberta.encode("Hello [MASK] world");
  auto b = deberta.encode("Hello[MASK]world");
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(deberta.convert_ids_to_tokens(a.ids),
            (std::vector<std::string>{"[CLS]", "\u2581He", "ll", "o", "[MASK]", "\u2581world", "[SEP]"}));
  auto xlmr = AutoTokenizer::from_pretrained(fixtures / "models" / "xlm-roberta-tiny");
  auto c = xlmr.encode("  world <mask>  world  ");
  EXPECT_EQ(xlmr.convert_ids_to_tokens(c.ids),
            (std::vector<std::string>{"<s>", "\u2581world", "<mask>", "\u2581world", "</s>"}));
  EXPECT_EQ(xlmr.encode("\t \n").ids, (std::vector<std::int64_t>{0, 2}));
  auto mpnet = AutoTokenizer::from_pretrained(fixtures / "models" / "mpnet-tiny-st");
  auto p = mpnet(std::vector<std::string>{"a"}, std::vector<std::string>{"b"}).encodings.at(0);
  EXPECT_EQ(mpnet.convert_ids_to_tokens(p.ids), (std::vector<std::string>{"<s>", "a", "</s>", "</s>", "b", "</s>"}));
}

TEST(FamilyTokenizationRules, MalformedAddedTokensJsonIsNamed) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path tmp = ortformers::testing::make_temp_dir("deberta_added");
  for (const char* f : {"spm.model", "tokenizer_config.json", "special_tokens_map.json"})
    fs::copy_file(fixtures / "models" / "deberta-v3-tiny" / f, tmp / f);
  // Without added_tokens.json the missing special tokens are appended after the pieces in transformers' order.
  auto t = AutoTokenizer::from_pretrained(tmp);
  EXPECT_EQ(t.cls_token_id(), 1000);
  EXPECT_EQ(t.sep_token_id(), 1001);
  EXPECT_EQ(t.pad_token_id(), 1002);
  EXPECT_EQ(t.mask_token_id(), 1003);
  std::ofstream(tmp / "added_tokens.json") << R"({"[CLS]": "x"})";
  try {
    AutoTokenizer::from_pretrained(tmp);
    FAIL() << "expected FileFormatError";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("added_tokens.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[CLS]"), std::string::npos) << e.what();
  }
  fs::remove_all(tmp);
}

}  // namespace
