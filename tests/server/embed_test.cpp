// Embedding routes on the sentence-transformers fixture (exported natively, as `serve --export`): /embed, /embed_all,
// /similarity, /v1/embeddings, /tokenize, /decode, /info, /health, /metrics, every parameter, against the fixture
// reference (sentence-transformers' encode) < 1e-4, and every answer against TEI's OpenAPI schema.
#include <cmath>
#include <cstring>

#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

namespace fs = std::filesystem;

// models/minilm-tiny-st with prompts in config_sentence_transformers.json (the fixture has none): every other file
// is a link to the fixture's.
fs::path minilm_with_prompts(const fs::path& fixtures) {
  const fs::path src = fixtures / "models" / "minilm-tiny-st";
  const fs::path dir = make_temp_dir("ortformers-serve-minilm");
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().filename() == "config_sentence_transformers.json") continue;
    fs::create_directory_symlink(e.path(), dir / e.path().filename());
  }
  for (const auto& e : fs::directory_iterator(src)) {
    if (!e.is_directory() && fs::is_symlink(dir / e.path().filename())) {
      fs::remove(dir / e.path().filename());
      fs::create_symlink(e.path(), dir / e.path().filename());
    }
  }
  write_text_file(dir / "config_sentence_transformers.json",
                  R"({"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": null})");
  return dir;
}

server::Server& minilm_server() {
  return shared_server("minilm", [] {
    auto o = loopback_options(minilm_with_prompts(*find_fixtures_dir()).string());
    o.export_model = true;
    o.served_model_name = "minilm-test";
    return o;
  });
}

std::vector<float> floats(const Json& j) {
  return j.get<std::vector<float>>();
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

double norm(const std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  return std::sqrt(n);
}

class EmbedServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ORTFORMERS_REQUIRE_FIXTURES(dir);
    fixtures_ = dir;
    ref_ = read_json_file(dir / "reference/minilm-tiny-st.json");
    server_ = &minilm_server();
  }
  fs::path fixtures_;
  Json ref_;
  server::Server* server_ = nullptr;
};

TEST_F(EmbedServer, EmbedMatchesSentenceTransformersReference) {
  const Json st = ref_["pipelines"]["sentence-embeddings"];
  const auto inputs = st["inputs"].get<std::vector<std::string>>();
  const RefTensor emb = ref_tensor(st["embeddings"]);
  HttpClient c(server_->port());
  // The whole list in one request, then one input per request: both equal the reference (truncate: one input is
  // longer than max_seq_length, which sentence-transformers truncates and TEI refuses unless asked to truncate).
  auto r = post_checked(c, "/embed", {{"inputs", inputs}, {"truncate", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json got = r.json();
  ASSERT_EQ(got.size(), inputs.size());
  const std::size_t dim = static_cast<std::size_t>(emb.shape[1]);
  double worst = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<float> expected(emb.data.begin() + i * dim, emb.data.begin() + (i + 1) * dim);
    worst = std::max(worst, max_diff(floats(got[i]), expected));
    auto one = post_checked(c, "/embed", {{"inputs", inputs[i]}, {"truncate", true}});
    ASSERT_EQ(one.status, 200) << one.body;
    worst = std::max(worst, max_diff(floats(one.json()[0]), expected));
  }
  EXPECT_LT(worst, 1e-4);
}

TEST_F(EmbedServer, ClientBatchSpanningModelBatchesKeepsOrder) {
  // A token budget of one max-length sequence and at most 3 sequences per batch: 12 inputs span several batches.
  auto& small = shared_server("minilm-small-batches", [] {
    auto o = loopback_options(minilm_with_prompts(*find_fixtures_dir()).string());
    o.export_model = true;
    o.max_batch_tokens = 256;
    o.max_batch_requests = 3;
    return o;
  });
  const Json st = ref_["pipelines"]["sentence-embeddings"];
  const RefTensor emb = ref_tensor(st["embeddings"]);
  HttpClient c(small.port());
  auto r = post_checked(c, "/embed", {{"inputs", st["inputs"]}, {"truncate", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::size_t dim = static_cast<std::size_t>(emb.shape[1]);
  for (std::size_t i = 0; i < st["inputs"].size(); ++i) {
    const std::vector<float> expected(emb.data.begin() + i * dim, emb.data.begin() + (i + 1) * dim);
    EXPECT_LT(max_diff(floats(r.json()[i]), expected), 1e-4) << "input " << i;
  }
  EXPECT_NE(small.metrics_text().find("te_batch_next_size_bucket{le=\"2\"}"), std::string::npos);
}

TEST_F(EmbedServer, NormalizeDimensionsAndTokenIds) {
  HttpClient c(server_->port());
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  const auto normed = floats(post_checked(c, "/embed", {{"inputs", text}}).json()[0]);
  const auto raw = floats(post_checked(c, "/embed", {{"inputs", text}, {"normalize", false}}).json()[0]);
  EXPECT_NEAR(norm(normed), 1.0, 1e-5);
  // normalize=false: the model's own embedding, as sentence-transformers encodes it; this model ends in a Normalize
  // module (exported inside the graph), so it is unit length already (a model without one: st_exports_test.cpp).
  EXPECT_NEAR(norm(raw), 1.0, 1e-5);
  std::vector<float> scaled = raw;
  for (float& x : scaled) x = static_cast<float>(x / norm(raw));
  EXPECT_LT(max_diff(scaled, normed), 1e-6);
  // Matryoshka: the first 8 values of the raw pooled vector, re-normalised.
  const auto d8 = floats(post_checked(c, "/embed", {{"inputs", text}, {"dimensions", 8}}).json()[0]);
  ASSERT_EQ(d8.size(), 8u);
  std::vector<float> first8(raw.begin(), raw.begin() + 8);
  for (float& x : first8) x = static_cast<float>(x / norm(std::vector<float>(raw.begin(), raw.begin() + 8)));
  EXPECT_LT(max_diff(d8, first8), 1e-6);
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", text}, {"dimensions", 0}}).status, 413);
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", text}, {"dimensions", 33}}).status, 413);
  // Token ids (what /tokenize returns) embed exactly as the text.
  const Json toks = post_checked(c, "/tokenize", {{"inputs", text}}).json()[0];
  std::vector<std::int64_t> ids;
  for (const auto& t : toks) ids.push_back(t["id"]);
  const auto by_ids = floats(post_checked(c, "/embed", {{"inputs", ids}}).json()[0]);
  EXPECT_LT(max_diff(by_ids, normed), 1e-6);
  const auto batch_ids = post_checked(c, "/embed", {{"inputs", Json::array({ids, text})}}).json();
  EXPECT_LT(max_diff(floats(batch_ids[0]), floats(batch_ids[1])), 1e-6);
}

TEST_F(EmbedServer, PromptsAndTruncation) {
  HttpClient c(server_->port());
  const auto with_prompt = floats(post_checked(c, "/embed", {{"inputs", "a cat"}, {"prompt_name", "query"}}).json()[0]);
  const auto prefixed = floats(post_checked(c, "/embed", {{"inputs", "query: a cat"}}).json()[0]);
  EXPECT_LT(max_diff(with_prompt, prefixed), 1e-6);
  auto unknown = post_checked(c, "/embed", {{"inputs", "a cat"}, {"prompt_name", "nope"}});
  EXPECT_EQ(unknown.status, 413);
  // Left truncation keeps the end: equal to [CLS] + the last 254 content tokens + [SEP] given as ids.
  std::string long_text;
  for (int i = 0; i < 150; ++i) long_text += "alpha" + std::to_string(i % 7) + " beta ";
  const Json toks = post_checked(c, "/tokenize", {{"inputs", long_text}}).json()[0];
  ASSERT_GT(toks.size(), 256u);
  std::vector<std::int64_t> left{toks.front()["id"].get<std::int64_t>()};
  for (std::size_t i = toks.size() - 1 - 254; i + 1 < toks.size(); ++i) left.push_back(toks[i]["id"]);
  left.push_back(toks.back()["id"]);
  ASSERT_EQ(left.size(), 256u);
  const auto l =
      floats(post_checked(c, "/embed", {{"inputs", long_text}, {"truncate", true}, {"truncation_direction", "Left"}})
                 .json()[0]);
  const auto r = floats(post_checked(c, "/embed", {{"inputs", long_text}, {"truncate", true}}).json()[0]);
  EXPECT_LT(max_diff(l, floats(post_checked(c, "/embed", {{"inputs", left}}).json()[0])), 1e-6);
  EXPECT_GT(max_diff(l, r), 1e-4);
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", long_text}}).status, 413);
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", long_text}, {"truncation_direction", "Up"}}).status, 422);
}

TEST_F(EmbedServer, EmbedAllSimilarityOpenAI) {
  const Json st = ref_["pipelines"]["sentence-embeddings"];
  const auto inputs = st["inputs"].get<std::vector<std::string>>();
  HttpClient c(server_->port());
  // embed_all: every token's embedding, as the reference's token_embeddings of the first inputs.
  auto all = post_checked(c, "/embed_all", {{"inputs", Json::array({inputs[0], inputs[1], inputs[2]})}});
  ASSERT_EQ(all.status, 200) << all.body;
  for (std::size_t i = 0; i < 3; ++i) {
    const RefTensor t = ref_tensor(st["token_embeddings_first3"][i]);
    std::vector<float> flat;
    const Json rows = all.json()[i];
    for (const auto& row : rows)
      for (float x : row.get<std::vector<float>>()) flat.push_back(x);
    EXPECT_LT(max_diff(flat, t.data), 1e-4) << "input " << i;
  }
  // similarity: the reference's cosine similarity row of the first input.
  auto sim = post_checked(
      c, "/similarity",
      {{"inputs",
        {{"source_sentence", inputs[0]}, {"sentences", Json::array({inputs[1], inputs[2], inputs[3], inputs[4]})}}}});
  ASSERT_EQ(sim.status, 200) << sim.body;
  for (std::size_t j = 0; j < 4; ++j)
    EXPECT_NEAR(sim.json()[j].get<double>(), st["cosine_similarity"][0][j + 1].get<double>(), 1e-4);
  // OpenAI: float and base64 (little-endian float32) equal /embed; usage counts the tokens.
  const auto e = post_checked(c, "/embed", {{"inputs", Json::array({inputs[0], inputs[1]})}}).json();
  auto f = post_checked(c, "/v1/embeddings", {{"input", Json::array({inputs[0], inputs[1]})}, {"model", "x"}});
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.json()["model"], "minilm-test");
  EXPECT_EQ(f.json()["object"], "list");
  EXPECT_EQ(f.json()["usage"]["prompt_tokens"], 5 + 12);
  EXPECT_EQ(f.json()["usage"]["total_tokens"], 5 + 12);
  auto b = post_checked(c, "/v1/embeddings", {{"input", inputs[1]}, {"encoding_format", "base64"}});
  ASSERT_EQ(b.status, 200) << b.body;
  const std::string b64 = b.json()["data"][0]["embedding"];
  std::string bytes;
  std::uint32_t acc = 0;
  int bits = 0;
  const std::string tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (char ch : b64) {
    if (ch == '=') break;
    acc = (acc << 6) | static_cast<std::uint32_t>(tbl.find(ch));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  std::vector<float> decoded(bytes.size() / 4);
  std::memcpy(decoded.data(), bytes.data(), decoded.size() * 4);
  // base64 of the same input (alone here, second of a batch of two above: float noise of the batch only).
  ASSERT_EQ(decoded.size(), floats(f.json()["data"][1]["embedding"]).size());
  EXPECT_LT(max_diff(decoded, floats(f.json()["data"][1]["embedding"])), 1e-6);
  EXPECT_LT(max_diff(floats(f.json()["data"][0]["embedding"]), floats(e[0])), 1e-7);
  auto d = post_checked(c, "/v1/embeddings", {{"input", inputs[1]}, {"dimensions", 4}});
  EXPECT_EQ(d.json()["data"][0]["embedding"].size(), 4u);
  auto bad = post_checked(c, "/v1/embeddings", {{"input", Json::array()}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error_type"], "Empty");
  EXPECT_EQ(bad.json()["code"], 400);
}

TEST_F(EmbedServer, TokenizeAndDecodeMatchTheReference) {
  HttpClient c(server_->port());
  for (const auto& t : ref_["tokenization"]) {
    if (t["truncated"].get<bool>()) continue;
    auto r = post_checked(c, "/tokenize", {{"inputs", t["text"]}});
    ASSERT_EQ(r.status, 200) << r.body;
    const Json toks = r.json()[0];
    ASSERT_EQ(toks.size(), t["input_ids"].size()) << t["text"];
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      EXPECT_EQ(toks[i]["id"], t["input_ids"][i]);
      EXPECT_EQ(toks[i]["text"], t["tokens"][i]);
      ids.push_back(toks[i]["id"]);
    }
    EXPECT_TRUE(toks.front()["special"].get<bool>());
    EXPECT_TRUE(toks.front()["start"].is_null());
    auto d = post_checked(c, "/decode", {{"ids", ids}});
    ASSERT_EQ(d.status, 200) << d.body;
    auto with_special = post_checked(c, "/decode", {{"ids", Json::array({ids})}, {"skip_special_tokens", false}});
    EXPECT_EQ(with_special.json()[0].get<std::string>().rfind("[CLS]", 0), 0u);
  }
  auto hello = post_checked(c, "/tokenize", {{"inputs", Json::array({"Hello world!"})}, {"add_special_tokens", false}});
  const Json h = hello.json()[0];
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0]["start"], 0);
  EXPECT_EQ(h[0]["stop"], 5);
  EXPECT_EQ(h[1]["start"], 6);
  EXPECT_FALSE(h[0]["special"].get<bool>());
  auto d = post_checked(c, "/decode", {{"ids", Json::array({7592, 2088, 999})}});
  EXPECT_EQ(d.json()[0], "hello world!");
  auto prompt =
      post_checked(c, "/tokenize", {{"inputs", "cat"}, {"prompt_name", "query"}, {"add_special_tokens", false}});
  EXPECT_EQ(prompt.json()[0][0]["text"], "query");
}

TEST_F(EmbedServer, HealthInfoMetricsAndRequestId) {
  HttpClient c(server_->port());
  auto h = c.get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_FALSE(h.headers["x-request-id"].empty());
  auto echoed = c.request("GET", "/health", "", {{"x-request-id", "abc-123"}});
  EXPECT_EQ(echoed.headers["x-request-id"], "abc-123");
  auto info = c.get("/info");
  ASSERT_EQ(info.status, 200);
  const Json j = info.json();
  EXPECT_EQ(tei_spec().validate_schema("Info", j), "");
  EXPECT_EQ(j["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(j["max_input_length"], 256);
  EXPECT_EQ(j["max_client_batch_size"], 32);
  EXPECT_EQ(j["max_batch_tokens"], 16384);
  EXPECT_EQ(j["max_concurrent_requests"], 512);
  EXPECT_EQ(j["served_model_name"], "minilm-test");
  EXPECT_EQ(j["pipeline_tag"], "sentence-embeddings");
  EXPECT_EQ(c.get("/no-such-route").status, 404);
  EXPECT_EQ(c.get("/embed").status, 405);
  // Routes of other model types: 424.
  for (const char* route : {"/predict", "/rerank", "/embed_sparse"}) {
    auto r = c.post(route, {{"inputs", "x"}, {"query", "q"}, {"texts", {"t"}}});
    EXPECT_EQ(r.status, 424) << route;
    EXPECT_EQ(r.json()["error_type"], "Backend");
  }
  post_checked(c, "/embed", {{"inputs", "metrics"}});
  auto m = c.get("/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* name : {"te_request_count{method=\"embed\"}", "te_request_success{method=\"embed\"}",
                           "te_request_failure{err=\"Backend\"}", "te_queue_size ", "te_batch_next_size_bucket",
                           "te_batch_next_tokens_bucket", "te_request_duration_bucket{method=\"embed\",le=",
                           "te_request_tokenization_duration_count", "te_request_queue_duration_count",
                           "te_request_inference_duration_count", "te_batch_inference_duration_count"}) {
    EXPECT_NE(m.body.find(name), std::string::npos) << name;
  }
}

TEST_F(EmbedServer, EmbedErrors) {
  HttpClient c(server_->port());
  auto empty = post_checked(c, "/embed", {{"inputs", Json::array()}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.json()["error_type"], "Empty");
  auto wrong = post_checked(c, "/embed", {{"inputs", 42}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.json()["error_type"], "Validation");
  EXPECT_EQ(post_checked(c, "/embed", {{"text", "x"}}).status, 422);
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", "x"}, {"normalize", "yes"}}).status, 422);
  auto big = post_checked(c, "/embed", {{"inputs", std::vector<std::string>(33, "a")}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.json()["error_type"], "Validation");
  auto malformed = c.request("POST", "/embed", "{\"inputs\": ");
  EXPECT_EQ(malformed.status, 422);
  // A token id outside the vocabulary fails in the model run: 424, and the server keeps serving.
  auto failing = post_checked(c, "/embed", {{"inputs", Json::array({101, 999999, 102})}});
  EXPECT_EQ(failing.status, 424) << failing.body;
  EXPECT_EQ(failing.json()["error_type"], "Backend");
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", "still alive"}}).status, 200);
}

TEST_F(EmbedServer, PipelineRouteAnswersAsRun) {
  HttpClient c(server_->port());
  auto r = c.post("/pipeline", {{"inputs", "Hello world!"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto expected = post_checked(c, "/embed", {{"inputs", "Hello world!"}}).json()[0];
  EXPECT_LT(max_diff(floats(r.json()), floats(expected)), 1e-5);
  auto root = c.post("/", {{"inputs", Json::array({"a", "b"})}, {"parameters", {{"normalize", false}}}});
  ASSERT_EQ(root.status, 200) << root.body;
  EXPECT_EQ(root.json().size(), 2u);
  auto bad = c.post("/pipeline", {{"inputs", "x"}, {"parameters", {{"nope", 1}}}});
  EXPECT_EQ(bad.status, 422) << bad.body;
}

}  // namespace
}  // namespace ortformers::testing
