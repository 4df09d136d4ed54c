// `serve` on optimum's sentence-transformers exports (a folder with model.onnx whose outputs are token_embeddings and
// sentence_embedding, and no 1_Pooling/): /embed and /v1/embeddings give the graph's pooled output, as
// `ortformers run sentence-embeddings` does, equal to sentence-transformers' encode (fixture references, < 1e-4), on
// the three mean-pooling fixtures and on a CLS-pooling export made here; and a too-long input is the same 413 on every
// embedding route (issue 23, items 1 and 2).
#include <cmath>

#include "ortformers/export/export.hpp"
#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

namespace fs = std::filesystem;

std::vector<float> floats(const Json& j) {
  return j.get<std::vector<float>>();
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e9;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

std::vector<float> l2_normalized(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  n = std::max(std::sqrt(n), 1e-12);
  for (float& x : v) x = static_cast<float>(x / n);
  return v;
}

server::Server& st_export_server(const std::string& name, const fs::path& folder) {
  return shared_server("st-export-" + name, [&] { return loopback_options(folder.string()); });
}

// models/minilm-tiny-st with CLS pooling and no Normalize module, exported natively in the sentence-transformers
// form (the pooling inside the graph, as optimum exports it), then stripped of its sentence-transformers files as an
// optimum export folder is: only the graph knows it pools the CLS token.
fs::path cls_export(const fs::path& fixtures) {
  const fs::path src = fixtures / "models" / "minilm-tiny-st";
  const fs::path ckpt = make_temp_dir("ortformers-serve-cls-ckpt");
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string n = e.path().filename().string();
    if (n == "modules.json" || n == "1_Pooling" || n == "2_Normalize") continue;
    if (e.is_directory())
      fs::create_directory_symlink(e.path(), ckpt / n);
    else
      fs::create_symlink(e.path(), ckpt / n);
  }
  write_text_file(ckpt / "modules.json", R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
])");
  fs::create_directory(ckpt / "1_Pooling");
  write_text_file(ckpt / "1_Pooling" / "config.json", R"({"word_embedding_dimension": 32,
  "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false,
  "pooling_mode_mean_sqrt_len_tokens": false})");
  const fs::path out = make_temp_dir("ortformers-serve-cls-onnx");
  exporters::ExportOptions eo;
  eo.opset = 14;
  const auto r = exporters::export_model(ckpt, out, eo);
  EXPECT_EQ(r.library_name, "sentence_transformers");
  for (const char* f : {"modules.json", "1_Pooling", "2_Normalize", "sentence_bert_config.json",
                        "config_sentence_transformers.json", "README.md"})
    fs::remove_all(out / f);
  return out;
}

class StExportServer : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ORTFORMERS_REQUIRE_FIXTURES(dir);
    fixtures_ = dir;
  }
  fs::path fixtures_;
};

TEST_P(StExportServer, EmbedAndOpenAIEqualSentenceTransformers) {
  const std::string name = GetParam();
  const fs::path folder = fixtures_ / "onnx" / name;
  ASSERT_FALSE(fs::exists(folder / "1_Pooling"));
  const Json st = read_json_file(fixtures_ / "reference" / (name + ".json"))["pipelines"]["sentence-embeddings"];
  const auto inputs = st["inputs"].get<std::vector<std::string>>();
  const RefTensor emb = ref_tensor(st["embeddings"]);
  const std::size_t dim = static_cast<std::size_t>(emb.shape[1]);
  auto& s = st_export_server(name, folder);
  HttpClient c(s.port());
  const Json info = c.get("/info").json();
  EXPECT_EQ(info["model_type"]["embedding"]["pooling"], "sentence_embedding") << info.dump();
  // The inputs sentence-transformers did not truncate (its max_seq_length is in the checkpoint's
  // sentence_bert_config.json, which an optimum folder does not carry).
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto t = post_checked(c, "/tokenize", {{"inputs", inputs[i]}});
    ASSERT_EQ(t.status, 200) << t.body;
    if (t.json()[0].size() <= st["max_seq_length"].get<std::size_t>()) kept.push_back(i);
  }
  ASSERT_GE(kept.size(), 10u);
  Json batch = Json::array();
  for (std::size_t i : kept) batch.push_back(inputs[i]);
  auto all = post_checked(c, "/embed", {{"inputs", batch}});
  ASSERT_EQ(all.status, 200) << all.body;
  // normalize=false: the model's own embedding, as sentence-transformers' encode returns it (these models end in a
  // Normalize module, exported inside the graph).
  auto raw = post_checked(c, "/embed", {{"inputs", batch}, {"normalize", false}});
  ASSERT_EQ(raw.status, 200) << raw.body;
  auto openai = post_checked(c, "/v1/embeddings", {{"input", batch}});
  ASSERT_EQ(openai.status, 200) << openai.body;
  double worst = 0;
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const std::size_t i = kept[k];
    const std::vector<float> expected(emb.data.begin() + i * dim, emb.data.begin() + (i + 1) * dim);
    worst = std::max(worst, max_diff(floats(all.json()[k]), expected));
    worst = std::max(worst, max_diff(floats(raw.json()[k]), expected));
    worst = std::max(worst, max_diff(floats(openai.json()["data"][k]["embedding"]), expected));
    auto one = post_checked(c, "/embed", {{"inputs", inputs[i]}});
    ASSERT_EQ(one.status, 200) << one.body;
    worst = std::max(worst, max_diff(floats(one.json()[0]), expected));
  }
  EXPECT_LT(worst, 1e-4) << name;
}

INSTANTIATE_TEST_SUITE_P(OptimumExports, StExportServer,
                         ::testing::Values("minilm-tiny-st", "mpnet-tiny-st", "xlm-roberta-tiny-st"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(StExportServerCls, ClsPoolingInsideTheGraphIsWhatServeAnswers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json st = read_json_file(fixtures / "reference" / "minilm-tiny-st.json")["pipelines"]["sentence-embeddings"];
  const auto inputs = st["inputs"].get<std::vector<std::string>>();
  const fs::path folder = cls_export(fixtures);
  auto& s = st_export_server("cls", folder);
  HttpClient c(s.port());
  for (std::size_t i = 0; i < 3; ++i) {
    // sentence-transformers with CLS pooling and no Normalize: the first row of its token embeddings.
    const RefTensor tokens = ref_tensor(st["token_embeddings_first3"][i]);
    const std::size_t h = static_cast<std::size_t>(tokens.shape.back());
    const std::vector<float> cls(tokens.data.begin(), tokens.data.begin() + h);
    auto raw = post_checked(c, "/embed", {{"inputs", inputs[i]}, {"normalize", false}});
    ASSERT_EQ(raw.status, 200) << raw.body;
    EXPECT_LT(max_diff(floats(raw.json()[0]), cls), 1e-4) << "input " << i;
    auto normed = post_checked(c, "/embed", {{"inputs", inputs[i]}});
    EXPECT_LT(max_diff(floats(normed.json()[0]), l2_normalized(cls)), 1e-4) << "input " << i;
    auto openai = post_checked(c, "/v1/embeddings", {{"input", inputs[i]}});
    ASSERT_EQ(openai.status, 200) << openai.body;
    EXPECT_LT(max_diff(floats(openai.json()["data"][0]["embedding"]), l2_normalized(cls)), 1e-4) << "input " << i;
    // The Inference-API route runs the same pipeline: the same vector.
    auto pipe = c.post("/pipeline", {{"inputs", inputs[i]}});
    ASSERT_EQ(pipe.status, 200) << pipe.body;
    EXPECT_LT(max_diff(floats(pipe.json()), cls), 1e-4) << "input " << i;
  }
}

TEST(StExportServerLimits, TooLongInputIs413OnEveryEmbeddingRoute) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto& s = st_export_server("minilm-tiny-st", fixtures / "onnx" / "minilm-tiny-st");
  HttpClient c(s.port());
  std::string long_text;
  for (int i = 0; i < 2300; ++i) long_text += "hello ";
  const auto tokens = post_checked(c, "/tokenize", {{"inputs", long_text}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;  // /tokenize answers the tokens of any text: it runs no model
  const std::size_t n = tokens.json()[0].size();
  ASSERT_EQ(n, 2302u);
  const std::string message = "`inputs` must have less than 512 tokens. Given: " + std::to_string(n);
  const std::vector<std::pair<std::string, Json>> calls = {
      {"/embed", {{"inputs", long_text}}},
      {"/embed", {{"inputs", Json::array({"short", long_text})}}},
      {"/embed_all", {{"inputs", long_text}}},
      {"/similarity", {{"inputs", {{"source_sentence", "short"}, {"sentences", Json::array({long_text})}}}}},
      {"/v1/embeddings", {{"input", long_text}}},
  };
  for (const auto& [path, body] : calls) {
    auto r = post_checked(c, path, body);
    EXPECT_EQ(r.status, 413) << path << " " << r.body;
    EXPECT_EQ(r.json()["error_type"], "Validation") << path;
    EXPECT_EQ(r.json().value(path == "/v1/embeddings" ? "message" : "error", ""), message) << path;
  }
  // The Inference-API route answers what `ortformers run sentence-embeddings` prints: sentence-transformers truncates
  // to max_seq_length (512 here), as /embed does when asked to.
  auto root = c.post("/", {{"inputs", long_text}});
  ASSERT_EQ(root.status, 200) << root.body;
  auto truncated = post_checked(c, "/embed", {{"inputs", long_text}, {"truncate", true}, {"normalize", false}});
  ASSERT_EQ(truncated.status, 200) << truncated.body;
  EXPECT_LT(max_diff(floats(root.json()), floats(truncated.json()[0])), 1e-5);
}

}  // namespace
}  // namespace ortformers::testing
