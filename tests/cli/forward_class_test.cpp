// `ortformers forward` without --class runs the ORTModelFor<Class> the folder implies (the task `info` detects),
// ORTModelForCustomTasks when no class fits; --class overrides; names that are not graph inputs are ignored, as
// optimum's ORTModel classes ignore unknown keyword arguments.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>

#include "support/cli.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using ortformers::testing::shell_quote;
namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  Json out;
  std::string err;
};

// forward on the first recorded tokenization of `name`, plus `extra` inputs.
Run forward(const fs::path& fixtures, const std::string& name, const std::string& flags, const Json& extra = {}) {
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  const Json& tok = ref.at("tokenization")[0];
  const auto n = tok.at("input_ids").size();
  Json in = {{"input_ids", {{"shape", {1, n}}, {"data", tok.at("input_ids")}}},
             {"attention_mask", {{"shape", {1, n}}, {"data", tok.at("attention_mask")}}},
             {"token_type_ids",
              {{"shape", {1, n}},
               {"data", tok.contains("token_type_ids") ? tok.at("token_type_ids") : Json(std::vector<int>(n, 0))}}}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_null())
        in.erase(it.key());  // null: leave the input out
      else
        in[it.key()] = it.value();
    }
  }
  const auto dir = ortformers::testing::make_temp_dir("fwdcls");
  write_text_file(dir / "in.json", in.dump());
  const std::string cmd = std::string(ORTFORMERS_CLI_PATH) + " forward --model " +
                          shell_quote((fixtures / "onnx" / name).string()) + " --inputs " +
                          shell_quote((dir / "in.json").string()) + " " + flags + " >" +
                          shell_quote((dir / "out").string()) + " 2>" + shell_quote((dir / "err").string());
  const int rc = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  const std::string out = read_text_file(dir / "out");
  if (!out.empty()) r.out = Json::parse(out);
  r.err = read_text_file(dir / "err");
  fs::remove_all(dir);
  return r;
}

double max_diff(const Json& printed, const Json& reference) {
  const auto ref = ortformers::testing::ref_tensor(reference);
  EXPECT_EQ(printed.at("shape").get<Shape>(), ref.shape);
  double m = 0;
  const auto& data = printed.at("data");
  for (std::size_t i = 0; i < ref.data.size(); ++i) m = std::max(m, std::fabs(data[i].get<double>() - ref.data[i]));
  return m;
}

}  // namespace

TEST(CliForward, PicksTheClassTheFolderImplies) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // A question-answering graph: ORTModelForQuestionAnswering (was: "has neither a 'last_hidden_state' nor ...").
  auto qa = forward(fixtures, "bert-tiny-qa", "");
  ASSERT_EQ(qa.status, 0) << qa.err;
  EXPECT_NE(qa.err.find("ORTModelForQuestionAnswering"), std::string::npos) << qa.err;
  const Json qa_ref = read_json_file(fixtures / "reference" / "bert-tiny-qa.json").at("model_outputs")[0].at("outputs");
  EXPECT_LT(max_diff(qa.out.at("start_logits"), qa_ref.at("start_logits")), 1e-4);
  EXPECT_LT(max_diff(qa.out.at("end_logits"), qa_ref.at("end_logits")), 1e-4);
  // Sequence classification.
  auto cls = forward(fixtures, "bert-tiny-seqcls", "");
  ASSERT_EQ(cls.status, 0) << cls.err;
  EXPECT_NE(cls.err.find("ORTModelForSequenceClassification"), std::string::npos) << cls.err;
  const Json cls_ref =
      read_json_file(fixtures / "reference" / "bert-tiny-seqcls.json").at("model_outputs")[0].at("outputs");
  EXPECT_LT(max_diff(cls.out.at("logits"), cls_ref.at("logits")), 1e-4);
  // A plain encoder: ORTModelForFeatureExtraction.
  auto fe = forward(fixtures, "bert-tiny", "");
  ASSERT_EQ(fe.status, 0) << fe.err;
  EXPECT_NE(fe.err.find("ORTModelForFeatureExtraction"), std::string::npos) << fe.err;
  EXPECT_TRUE(fe.out.contains("last_hidden_state"));
  // A sentence-transformers export (token_embeddings, sentence_embedding): no task class fits -> CustomTasks.
  auto st = forward(fixtures, "minilm-tiny-st", "");
  ASSERT_EQ(st.status, 0) << st.err;
  EXPECT_NE(st.err.find("ORTModelForCustomTasks"), std::string::npos) << st.err;
  EXPECT_TRUE(st.out.contains("sentence_embedding")) << st.out.dump().substr(0, 200);
}

TEST(CliForward, ClassOverridesAndUnknownInputsAreIgnored) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // --class CustomTasks on the QA graph: every output by name.
  auto custom = forward(fixtures, "bert-tiny-qa", "--class CustomTasks");
  ASSERT_EQ(custom.status, 0) << custom.err;
  EXPECT_TRUE(custom.out.contains("start_logits") && custom.out.contains("end_logits"));
  // A class whose outputs the graph does not have: a clear error naming the output.
  auto wrong = forward(fixtures, "bert-tiny-qa", "--class ORTModelForSequenceClassification");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.err.find("'logits'"), std::string::npos) << wrong.err;
  // An input the graph does not take (distilbert has no token_type_ids; "labels" is nobody's input): ignored.
  const Json labels = {{"labels", {{"shape", {1}}, {"data", {1}}}}};
  auto extra = forward(fixtures, "distilbert-tiny-qa", "", labels);
  ASSERT_EQ(extra.status, 0) << extra.err;
  EXPECT_NE(extra.err.find("ignoring 'labels'"), std::string::npos) << extra.err;
  EXPECT_NE(extra.err.find("ignoring 'token_type_ids'"), std::string::npos) << extra.err;
  EXPECT_TRUE(extra.out.contains("start_logits"));
  // A missing graph input is still an error naming the graph's inputs.
  const Json no_ids = {{"input_ids", nullptr}};
  auto bad = forward(fixtures, "bert-tiny-qa", "", no_ids);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("input_ids"), std::string::npos) << bad.err;
}
