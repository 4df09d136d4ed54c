// /embed, /health, /info on the sentence-transformers fixture: the embeddings of the fixture reference
// (sentence-transformers' encode), < 1e-4.
#include <cmath>

#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

class EmbedServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = find_fixtures_dir();
    if (!dir) return;
    fixtures_ = new std::filesystem::path(*dir);
    // The sentence-transformers checkpoint, exported natively (as `ortformers serve --export` does): its folder carries
    // modules.json, sentence_bert_config.json (max_seq_length 256) and config_sentence_transformers.json.
    auto o = loopback_options((*dir / "models/minilm-tiny-st").string());
    o.export_model = true;
    server_ = start_server(o).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete fixtures_;
    fixtures_ = nullptr;
  }
  void SetUp() override {
    ORTFORMERS_REQUIRE_FIXTURES(dir);
    (void)dir;
    ASSERT_NE(server_, nullptr);
  }
  static inline server::Server* server_ = nullptr;
  static inline std::filesystem::path* fixtures_ = nullptr;
};

TEST_F(EmbedServer, EmbedMatchesSentenceTransformersReference) {
  const Json ref = read_json_file(*fixtures_ / "reference/minilm-tiny-st.json")["pipelines"]["sentence-embeddings"];
  const auto inputs = ref["inputs"].get<std::vector<std::string>>();
  const RefTensor emb = ref_tensor(ref["embeddings"]);
  HttpClient c(server_->port());
  // The whole list in one request, then one input per request: both equal the reference (truncate: one input is
  // longer than max_seq_length, which sentence-transformers truncates and TEI refuses unless asked to truncate).
  auto r = c.post("/embed", {{"inputs", inputs}, {"truncate", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json got = r.json();
  ASSERT_EQ(got.size(), inputs.size());
  const std::size_t dim = static_cast<std::size_t>(emb.shape[1]);
  double max_diff = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(got[i].size(), dim);
    for (std::size_t k = 0; k < dim; ++k)
      max_diff = std::max(max_diff, std::abs(got[i][k].get<double>() - emb.data[i * dim + k]));
    auto one = c.post("/embed", {{"inputs", inputs[i]}, {"truncate", true}});
    ASSERT_EQ(one.status, 200) << one.body;
    for (std::size_t k = 0; k < dim; ++k)
      max_diff = std::max(max_diff, std::abs(one.json()[0][k].get<double>() - emb.data[i * dim + k]));
  }
  EXPECT_LT(max_diff, 1e-4);
}

TEST_F(EmbedServer, HealthInfoAndRequestId) {
  HttpClient c(server_->port());
  auto h = c.get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_FALSE(h.headers["x-request-id"].empty());
  auto echoed = c.request("GET", "/health", "", {{"x-request-id", "abc-123"}});
  EXPECT_EQ(echoed.headers["x-request-id"], "abc-123");
  auto info = c.get("/info");
  ASSERT_EQ(info.status, 200);
  const Json j = info.json();
  EXPECT_EQ(j["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(j["max_input_length"], 256);
  EXPECT_EQ(j["max_client_batch_size"], 32);
  EXPECT_EQ(j["max_batch_tokens"], 16384);
  EXPECT_EQ(j["max_concurrent_requests"], 512);
  EXPECT_EQ(c.get("/no-such-route").status, 404);
  EXPECT_EQ(c.post("/predict", {{"inputs", "x"}}).status, 424);  // wrong route for an embedding model
}

TEST_F(EmbedServer, EmbedErrors) {
  HttpClient c(server_->port());
  auto empty = c.post("/embed", {{"inputs", Json::array()}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.json()["error_type"], "Empty");
  auto wrong = c.post("/embed", {{"inputs", 42}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.json()["error_type"], "Validation");
  auto big = c.post("/embed", {{"inputs", std::vector<std::string>(33, "a")}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.json()["error_type"], "Validation");
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word ";
  auto too_long = c.post("/embed", {{"inputs", long_text}});
  EXPECT_EQ(too_long.status, 413) << too_long.body;
  auto truncated = c.post("/embed", {{"inputs", long_text}, {"truncate", true}});
  EXPECT_EQ(truncated.status, 200) << truncated.body;
  auto malformed = c.request("POST", "/embed", "{\"inputs\": ");
  EXPECT_EQ(malformed.status, 422);
}

}  // namespace
}  // namespace ortformers::testing
