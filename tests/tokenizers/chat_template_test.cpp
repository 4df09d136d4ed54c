// PreTrainedTokenizer::apply_chat_template on a tokenizer folder made by the test: the fixture GPT-2 tokenizer files
// plus a chat_template in tokenizer_config.json (a string, or transformers' list of named templates).
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/chat_template/chat_template.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
namespace ct = ortformers::chat_template;
namespace tk = ortformers::tokenizers;

namespace {

ct::OrderedJson read_ordered(const fs::path& p) {
  std::ifstream in(p);
  return ct::OrderedJson::parse(in);
}

// A copy of the gpt2-tiny tokenizer files with `chat_template` set in tokenizer_config.json (null: left out).
fs::path tokenizer_dir(const fs::path& fixtures, const ortformers::Json& chat_template) {
  const fs::path src = fixtures / "models" / "gpt2-tiny";
  const fs::path dir = ortformers::testing::make_temp_dir("chat_template_tokenizer");
  for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "special_tokens_map.json", "config.json"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dir / f);
  ortformers::Json cfg = ortformers::read_json_file(src / "tokenizer_config.json");
  if (!chat_template.is_null()) cfg["chat_template"] = chat_template;
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump(2);
  return dir;
}

const ct::OrderedJson& find_case(const ct::OrderedJson& fixture, const std::string& id, bool add_generation_prompt) {
  for (const auto& c : fixture.at("cases"))
    if (c.at("id") == id && c.at("add_generation_prompt") == add_generation_prompt) return c;
  throw std::runtime_error("no case " + id);
}

}  // namespace

TEST(ApplyChatTemplate, StringTemplateFromTokenizerConfig) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto chatml = read_ordered(fixtures / "chat_templates" / "chatml.json");
  const auto dir = tokenizer_dir(fixtures, chatml.at("template").get<std::string>());
  const auto tok = tk::AutoTokenizer::from_pretrained(dir);
  for (bool agp : {false, true}) {
    const auto& c = find_case(chatml, "multi_turn", agp);
    tk::ChatTemplateOptions o;
    o.add_generation_prompt = agp;
    const auto r = tok.apply_chat_template(c.at("messages"), o);
    EXPECT_EQ(r.text, c.at("rendered").get<std::string>());
    EXPECT_TRUE(r.input_ids.empty());
    o.tokenize = true;
    const auto t = tok.apply_chat_template(c.at("messages"), o);
    tk::TokenizeOptions no_special;
    no_special.add_special_tokens = false;
    EXPECT_EQ(t.input_ids, tok.encode(t.text, no_special).ids);
    EXPECT_FALSE(t.input_ids.empty());
  }
  fs::remove_all(dir);
}

TEST(ApplyChatTemplate, SpecialTokensComeFromTheTokenizer) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto zephyr = read_ordered(fixtures / "chat_templates" / "zephyr.json");
  const auto dir = tokenizer_dir(fixtures, zephyr.at("template").get<std::string>());
  const auto tok = tk::AutoTokenizer::from_pretrained(dir);
  const auto eos = tok.special_token("eos_token");
  ASSERT_TRUE(eos.has_value());
  const auto& c = find_case(zephyr, "system_multi_turn", true);
  tk::ChatTemplateOptions o;
  o.add_generation_prompt = true;
  const auto r = tok.apply_chat_template(c.at("messages"), o);
  // the fixture renders with eos_token "</s>"; this tokenizer's eos token takes its place
  std::string expected = c.at("rendered").get<std::string>();
  for (std::size_t p = expected.find("</s>"); p != std::string::npos; p = expected.find("</s>", p + eos->size()))
    expected.replace(p, 4, *eos);
  EXPECT_EQ(r.text, expected);
  fs::remove_all(dir);
}

TEST(ApplyChatTemplate, NamedTemplatesDefaultAndToolUse) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto chatml = read_ordered(fixtures / "chat_templates" / "chatml.json");
  const auto mistral = read_ordered(fixtures / "chat_templates" / "mistral-7b-instruct-v0.3.json");
  ortformers::Json named = ortformers::Json::array();
  named.push_back({{"name", "default"}, {"template", chatml.at("template").get<std::string>()}});
  named.push_back({{"name", "tool_use"}, {"template", mistral.at("template").get<std::string>()}});
  const auto dir = tokenizer_dir(fixtures, named);
  const auto tok = tk::AutoTokenizer::from_pretrained(dir);
  const auto& plain = find_case(chatml, "user", true);
  tk::ChatTemplateOptions o;
  o.add_generation_prompt = true;
  EXPECT_EQ(tok.apply_chat_template(plain.at("messages"), o).text, plain.at("rendered").get<std::string>());
  // with tools: "tool_use" (mistral v0.3 uses bos/eos: the tokenizer's)
  const auto& tools_case = find_case(mistral, "tools", true);
  o.tools = tools_case.at("tools");
  const std::string with_tools = tok.apply_chat_template(tools_case.at("messages"), o).text;
  EXPECT_NE(with_tools.find("[AVAILABLE_TOOLS]"), std::string::npos) << with_tools;
  // a name picks that template; an unknown name is used as the template string itself
  tk::ChatTemplateOptions by_name;
  by_name.chat_template = "tool_use";
  EXPECT_EQ(tok.apply_chat_template(plain.at("messages"), by_name).text.rfind("<|endoftext|>[INST]", 0), 0u);
  by_name.chat_template = "{{ messages | length }} {{ greeting }}";
  by_name.extra_variables = {{"greeting", "hi"}};
  EXPECT_EQ(tok.apply_chat_template(plain.at("messages"), by_name).text, "1 hi");
  fs::remove_all(dir);
}

TEST(ApplyChatTemplate, MissingTemplateIsTransformersError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = tokenizer_dir(fixtures, nullptr);
  const auto tok = tk::AutoTokenizer::from_pretrained(dir);
  try {
    (void)tok.apply_chat_template(ct::OrderedJson::parse(R"([{"role": "user", "content": "hi"}])"));
    FAIL();
  } catch (const ortformers::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "Cannot use chat template functions because tokenizer.chat_template is not set and no template "
                  "argument was passed!",
                  0),
              0u)
        << e.what();
  }
  fs::remove_all(dir);
  const auto dir2 = tokenizer_dir(fixtures, ortformers::Json::parse(R"([{"name": "a", "template": "x"}])"));
  const auto tok2 = tk::AutoTokenizer::from_pretrained(dir2);
  try {
    (void)tok2.apply_chat_template(ct::OrderedJson::array());
    FAIL();
  } catch (const ortformers::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Available template names are ['a']."), std::string::npos) << e.what();
  }
  fs::remove_all(dir2);
}
