// Every case of every fixtures/chat_templates/<name>.json rendered as transformers' apply_chat_template renders it:
// the same string, or the same TemplateError message (other Python errors: an error of the same kind occurs).
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "ortformers/chat_template/chat_template.hpp"
#include "support/fixtures.hpp"

namespace ct = ortformers::chat_template;
namespace fs = std::filesystem;

namespace {

ct::OrderedJson read_ordered(const fs::path& p) {
  std::ifstream in(p);
  return ct::OrderedJson::parse(in);
}

std::vector<fs::path> template_files(const fs::path& fixtures) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fixtures / "chat_templates"))
    if (e.path().extension() == ".json" && e.path().filename() != "renderer_crosscheck.json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

ct::OrderedJson case_variables(const ct::OrderedJson& fixture, const ct::OrderedJson& c) {
  ct::OrderedJson vars = ct::OrderedJson::object();
  vars["messages"] = c.at("messages");
  vars["add_generation_prompt"] = c.at("add_generation_prompt");
  for (const auto& [k, v] : fixture.at("special_tokens").items()) vars[k] = v;
  if (c.contains("tools")) vars["tools"] = c.at("tools");
  return vars;
}

}  // namespace

TEST(ChatTemplateFixtures, EveryCaseOfEveryTemplate) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto files = template_files(fixtures);
  ASSERT_EQ(files.size(), 11u);
  std::size_t rendered = 0, template_errors = 0, other_errors = 0;
  for (const auto& file : files) {
    const auto fixture = read_ordered(file);
    SCOPED_TRACE(file.filename().string());
    const ct::ChatTemplate tmpl(fixture.at("template").get<std::string>());
    ASSERT_EQ(fixture.at("cases").size(), 20u);
    for (const auto& c : fixture.at("cases")) {
      SCOPED_TRACE(c.at("id").get<std::string>() + " add_generation_prompt=" + c.at("add_generation_prompt").dump());
      const auto vars = case_variables(fixture, c);
      if (c.contains("rendered")) {
        try {
          EXPECT_EQ(tmpl.render(vars), c.at("rendered").get<std::string>());
        } catch (const std::exception& e) {
          ADD_FAILURE() << "unexpected error: " << e.what();
        }
        ++rendered;
        continue;
      }
      const auto& err = c.at("error");
      const std::string type = err.at("type").get<std::string>();
      try {
        const std::string out = tmpl.render(vars);
        ADD_FAILURE() << "expected " << type << ", rendered: " << out;
      } catch (const ct::TemplateError& e) {
        EXPECT_EQ(type, "TemplateError");
        EXPECT_EQ(std::string(e.what()), err.at("message").get<std::string>());
        ++template_errors;
      } catch (const ct::TemplateRenderError& e) {
        if (type == "TemplateError") {
          // jinja2's UndefinedError is a TemplateError: same message
          EXPECT_EQ(e.type, "UndefinedError");
          EXPECT_EQ(std::string(e.what()), err.at("message").get<std::string>());
          ++template_errors;
        } else {
          EXPECT_EQ(e.type, type) << e.what();
          ++other_errors;
        }
      }
    }
  }
  EXPECT_EQ(rendered + template_errors + other_errors, 220u);
  std::cout << "rendered " << rendered << ", TemplateError " << template_errors << ", other errors " << other_errors
            << "\n";
}

// renderer_crosscheck.json records that the fixture renderer matched transformers on five templates of a public test
// suite; each of those models must be one of the fixture templates checked above.
TEST(ChatTemplateFixtures, CrosscheckedModelsAreFixtureTemplates) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto cross = read_ordered(fixtures / "chat_templates" / "renderer_crosscheck.json");
  std::set<std::string> models;
  for (const auto& file : template_files(fixtures)) {
    const auto f = read_ordered(file);
    models.insert(f.at("source").at("model").get<std::string>());
  }
  ASSERT_FALSE(cross.at("results").empty());
  for (const auto& r : cross.at("results")) {
    EXPECT_TRUE(r.at("identical").get<bool>()) << r.dump();
    const std::string model = r.at("model").get<std::string>();
    bool found = false;
    for (const auto& m : models)
      if (model.find(m) != std::string::npos) found = true;
    EXPECT_TRUE(found) << model;
  }
}
