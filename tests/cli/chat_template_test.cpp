// `ortformers chat-template --inputs FILE.jsonl` over fixture cases: each output line the rendered string, or the
// TemplateError message verbatim.
#include <gtest/gtest.h>

#include <fstream>

#include "ortformers/chat_template/chat_template.hpp"
#include "support/cli.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using ortformers::chat_template::OrderedJson;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;

TEST(ChatTemplateCli, RendersFixtureCases) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = ortformers::testing::make_temp_dir("chat_template_cli");
  const fs::path inputs = dir / "inputs.jsonl";
  std::vector<OrderedJson> expected;
  {
    std::ofstream out(inputs);
    for (const char* name : {"gemma-it", "mistral-7b-instruct-v0.3", "zephyr"}) {
      std::ifstream in(fixtures / "chat_templates" / (std::string(name) + ".json"));
      const auto f = OrderedJson::parse(in);
      for (const auto& c : f.at("cases")) {
        OrderedJson vars = f.at("special_tokens");
        vars["messages"] = c.at("messages");
        vars["add_generation_prompt"] = c.at("add_generation_prompt");
        if (c.contains("tools")) vars["tools"] = c.at("tools");
        out << OrderedJson{{"template", f.at("template")}, {"variables", vars}}.dump() << "\n";
        expected.push_back(c);
      }
    }
    out << "not json\n";
  }
  const auto r = run_cli("chat-template --inputs " + shell_quote(inputs.string()));
  ASSERT_EQ(r.status, 0) << r.raw;
  ASSERT_EQ(r.lines.size(), expected.size() + 1);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& c = expected[i];
    if (c.contains("rendered")) {
      EXPECT_EQ(r.lines[i].is_string() ? r.lines[i].get<std::string>() : r.lines[i].dump(),
                c.at("rendered").get<std::string>())
          << c.at("id");
    } else if (c.at("error").at("type") == "TemplateError") {
      EXPECT_EQ(r.lines[i]["error"]["type"], "TemplateError") << r.lines[i].dump();
      EXPECT_EQ(r.lines[i]["error"]["message"], c.at("error").at("message").get<std::string>());
    } else {
      EXPECT_TRUE(r.lines[i].contains("error")) << r.lines[i].dump();
    }
  }
  EXPECT_EQ(r.lines.back()["error"]["type"], "InvalidInput");
  // stdin, a syntax error and an unsupported construct
  const auto s = run_cli("chat-template --inputs - < " + shell_quote(inputs.string()) + " | head -1");
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_EQ(s.lines[0], r.lines[0]);
  std::ofstream(dir / "bad.jsonl") << R"({"template": "{% if %}"})"
                                   << "\n"
                                   << R"({"template": "{% include 'x' %}", "variables": {}})"
                                   << "\n";
  const auto b = run_cli("chat-template --inputs " + shell_quote((dir / "bad.jsonl").string()));
  ASSERT_EQ(b.lines.size(), 2u);
  EXPECT_EQ(b.lines[0]["error"]["type"], "TemplateSyntaxError");
  EXPECT_EQ(b.lines[1]["error"]["type"], "UnsupportedError");
  fs::remove_all(dir);
}
