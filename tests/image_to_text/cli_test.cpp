// The image-to-text CLI: `ortformers generate` with {"images": [...], "parameters": {...}} lines reproduces every
// reference `generate` case of vit-gpt2-tiny and pix2struct-tiny (sequences, decoder start included);
// `ortformers run image-to-text` the pipeline entries; bad lines are clear errors.
#include <gtest/gtest.h>

#include <fstream>

#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
using ortformers::testing::run_cli;
using ortformers::testing::shell_quote;
using ortformers::testing::write_lines;

namespace {

// Under the sanitizers (every CLI process starts ~10x slower) a third of the cases run; all of them in Release.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kCaseStride = 3;
#else
constexpr std::size_t kCaseStride = 1;
#endif

Json image_paths(const Json& relative, const fs::path& fixtures) {
  Json out = Json::array();
  for (const auto& p : relative) out.push_back((fixtures / p.get<std::string>()).string());
  return out;
}

}  // namespace

TEST(ImageToTextCli, GenerateReproducesEveryCase) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path tmp = ortformers::testing::make_temp_dir("image_to_text_cli");
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
    std::vector<Json> lines;
    std::vector<Json> cases;
    for (std::size_t i = 0; i < ref.at("generate").size(); i += kCaseStride) {
      const Json& c = ref.at("generate")[i];
      cases.push_back(c);
      lines.push_back(
          {{"images", image_paths(ref.at("generate_inputs").at(c.at("input").get<std::string>()), fixtures)},
           {"parameters", c.at("kwargs")}});
    }
    const auto file = write_lines(tmp, name + ".jsonl", lines);
    const auto r = run_cli("generate --model " + shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                           shell_quote(file.string()));
    ASSERT_EQ(r.status, 0) << r.raw;
    ASSERT_EQ(r.lines.size(), cases.size());
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
      const Json& c = cases[i];
      EXPECT_EQ(r.lines[i].at("sequences"), c.at("sequences")) << name << " " << c.at("id") << " " << c.at("input");
    }
  }
  // Bad lines: images with input_ids, a missing file, images for a text model.
  const std::string vit = shell_quote((fixtures / "onnx" / "vit-gpt2-tiny").string());
  const std::string image = (fixtures / "media/images/shapes_37x53.png").string();
  for (const Json& bad : {Json{{"images", {image}}, {"input_ids", {1, 2}}}, Json{{"images", {"/no/such/image.png"}}},
                          Json{{"images", Json::array()}}, Json{{"images", {image}}, {"pixels", 1}}}) {
    const auto file = write_lines(tmp, "bad.jsonl", {bad});
    EXPECT_NE(run_cli("generate --model " + vit + " --inputs " + shell_quote(file.string())).status, 0) << bad;
  }
  const auto file = write_lines(tmp, "text-model.jsonl", {Json{{"images", {image}}}});
  EXPECT_NE(run_cli("generate --model " + shell_quote((fixtures / "onnx" / "t5-tiny").string()) + " --inputs " +
                    shell_quote(file.string()))
                .status,
            0);
  fs::remove_all(tmp);
}

TEST(ImageToTextCli, RunReproducesPipelineEntries) {
  ORTFORMERS_REQUIRE_CLI();
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  int checked = 0;
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
    std::size_t index = 0;
    for (const auto& c : ref.at("pipelines").at("image-to-text")) {
      if (index++ % kCaseStride != 0) continue;
      // One image per entry with its kwargs (the list / batch cases are the API tests').
      if (!c.at("input").is_string() || (c.at("output").is_object() && c.at("output").contains("error"))) continue;
      std::string args = "run image-to-text --model " + shell_quote((fixtures / "onnx" / name).string());
      for (const auto& [k, v] : c.at("kwargs").items()) {
        std::string option = k;  // one append at a time: GCC 12 warns -Wrestrict on `" " + temporary`
        option += '=';
        option += v.dump();
        args += " --option ";
        args += shell_quote(option);
      }
      args += ' ';
      args += shell_quote((fixtures / c.at("input").get<std::string>()).string());
      const auto r = run_cli(args);
      ASSERT_EQ(r.status, 0) << args;
      ASSERT_EQ(r.lines.size(), 1u) << r.raw;
      EXPECT_EQ(r.lines[0], c.at("output")) << args;
      ++checked;
    }
  }
  EXPECT_GE(checked, kCaseStride == 1 ? 18 : 4);
}
