// Classifier (/predict), reranker (/rerank, a one-label model made here from the seqcls fixture), SPLADE
// (/embed_sparse on the masked-LM fixture) and the Inference-API route (/pipeline) of the other tasks, each compared
// with the library's own pipeline / model on the same input.
#include <cmath>
#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "ortformers/models/masked_lm.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/pipelines/text_classification.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server_fixture.hpp"

namespace ortformers::testing {
namespace {

namespace fs = std::filesystem;

// Numbers within tol, everything else equal.
void expect_json_near(const Json& a, const Json& b, double tol, const std::string& at = "$") {
  if (a.is_number() && b.is_number()) {
    EXPECT_NEAR(a.get<double>(), b.get<double>(), tol) << at;
    return;
  }
  ASSERT_EQ(a.type(), b.type()) << at << ": " << a.dump().substr(0, 200) << " vs " << b.dump().substr(0, 200);
  if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << at;
    for (std::size_t i = 0; i < a.size(); ++i) expect_json_near(a[i], b[i], tol, at + "[" + std::to_string(i) + "]");
  } else if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << at << ": " << a.dump().substr(0, 200) << " vs " << b.dump().substr(0, 200);
    for (const auto& [k, v] : a.items()) {
      ASSERT_TRUE(b.contains(k)) << at << "." << k;
      expect_json_near(v, b.at(k), tol, at + "." + k);
    }
  } else {
    EXPECT_EQ(a, b) << at;
  }
}

server::Server& fixture_server(const std::string& folder, const std::string& pooling = "") {
  return shared_server(folder + pooling, [&] {
    auto o = loopback_options((*find_fixtures_dir() / folder).string());
    o.pooling = pooling;
    return o;
  });
}

// A cross-encoder: bert-tiny-seqcls with its classifier cut to the first label (num_labels 1), exported natively.
fs::path one_label_checkpoint(const fs::path& fixtures) {
  const fs::path src = fixtures / "models" / "bert-tiny-seqcls";
  const fs::path dir = make_temp_dir("ortformers-serve-reranker");
  auto sd = exporters::load_safetensors(src / "model.safetensors");
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : sd) {
    if (name == "classifier.weight") {
      const std::int64_t h = t.dim(1);
      std::vector<float> row(t.data<float>(), t.data<float>() + h);
      tensors.emplace_back(name, Tensor::from_vector(std::move(row), {1, h}));
    } else if (name == "classifier.bias") {
      tensors.emplace_back(name, Tensor::from_vector(std::vector<float>{t.data<float>()[0]}, {1}));
    } else {
      tensors.emplace_back(name, t);
    }
  }
  exporters::save_safetensors(dir / "model.safetensors", tensors);
  Json cfg = read_json_file(src / "config.json");
  cfg["id2label"] = {{"0", "LABEL_0"}};
  cfg["label2id"] = {{"LABEL_0", 0}};
  write_text_file(dir / "config.json", cfg.dump(2));
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dir / f);
  return dir;
}

class ModelServers : public ::testing::Test {
 protected:
  void SetUp() override {
    ORTFORMERS_REQUIRE_FIXTURES(dir);
    fixtures_ = dir;
  }
  fs::path fixtures_;
};

TEST_F(ModelServers, PredictEqualsTextClassificationReference) {
  for (const std::string name : {"bert-tiny-seqcls", "roberta-tiny-seqcls"}) {
    auto& s = fixture_server("onnx/" + name);
    HttpClient c(s.port());
    const Json ref = read_json_file(fixtures_ / "reference" / (name + ".json"))["pipelines"]["text-classification"];
    int checked = 0;
    for (const auto& e : ref) {
      const Json& kw = e["kwargs"];
      if (!kw.contains("top_k") || !kw["top_k"].is_null() || kw.contains("function_to_apply")) continue;
      if (!e["input"].is_string() && !e["input"].is_object()) continue;
      const Json input =
          e["input"].is_string() ? e["input"] : Json::array({e["input"]["text"], e["input"]["text_pair"]});
      auto r = post_checked(c, "/predict", {{"inputs", input}, {"truncate", true}});
      ASSERT_EQ(r.status, 200) << r.body;
      const Json got = r.json();
      ASSERT_EQ(got.size(), e["output"].size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i]["label"], e["output"][i]["label"]) << name << " " << e["input"];
        EXPECT_NEAR(got[i]["score"].get<double>(), e["output"][i]["score"].get<double>(), 1e-4);
      }
      ++checked;
    }
    EXPECT_GT(checked, 3) << name;
    // Pairs and batches equal the pipeline's own answers; raw_scores are the logits.
    auto pipe = pipelines::pipeline("text-classification", (fixtures_ / "onnx" / name).string());
    const Json all = {{"top_k", nullptr}};
    const Json pair_expected = pipe->call({{"text", "a question"}, {"text_pair", "an answer"}}, all);
    auto pair = post_checked(c, "/predict", {{"inputs", {"a question", "an answer"}}});
    ASSERT_EQ(pair.status, 200) << pair.body;
    expect_json_near(pair.json(), pair_expected, 1e-5);
    auto batch =
        post_checked(c, "/predict", {{"inputs", Json::array({Json::array({"hello"}), {"a question", "an answer"}})}});
    ASSERT_EQ(batch.status, 200) << batch.body;
    expect_json_near(batch.json()[0], pipe->call("hello", all), 1e-5);
    expect_json_near(batch.json()[1], pair_expected, 1e-5);
    auto raw = post_checked(c, "/predict", {{"inputs", "hello"}, {"raw_scores", true}});
    expect_json_near(raw.json(), pipe->call("hello", {{"top_k", nullptr}, {"function_to_apply", "none"}}), 1e-5);
    // Wrong routes for a classifier, and its /info.
    EXPECT_EQ(post_checked(c, "/rerank", {{"query", "q"}, {"texts", {"t"}}}).status, 424);
    EXPECT_EQ(post_checked(c, "/embed", {{"inputs", "q"}}).status, 424);
    const Json info = c.get("/info").json();
    EXPECT_EQ(tei_spec().validate_schema("Info", info), "");
    EXPECT_TRUE(info["model_type"].contains("classifier"));
  }
}

TEST_F(ModelServers, RerankOnAOneLabelCrossEncoder) {
  const fs::path dir = one_label_checkpoint(fixtures_);
  auto& s = shared_server("reranker", [&] {
    auto o = loopback_options(dir.string());
    o.export_model = true;
    return o;
  });
  HttpClient c(s.port());
  const Json info = c.get("/info").json();
  EXPECT_EQ(tei_spec().validate_schema("Info", info), "");
  ASSERT_TRUE(info["model_type"].contains("reranker")) << info.dump();
  pipelines::PipelineOptions po;
  po.model.export_model = true;
  pipelines::TextClassificationPipeline pipe(dir.string(), po);
  const std::string query = "What is the capital of France?";
  const std::vector<std::string> texts = {"Paris is the capital of France.", "The quick brown fox.", "Berlin.",
                                          "France is a country in Europe and its capital is Paris."};
  auto r = post_checked(c, "/rerank", {{"query", query}, {"texts", texts}, {"return_text", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json ranks = r.json();
  ASSERT_EQ(ranks.size(), texts.size());
  auto raw = post_checked(c, "/rerank", {{"query", query}, {"texts", texts}, {"raw_scores", true}}).json();
  for (std::size_t k = 0; k < ranks.size(); ++k) {
    const std::size_t i = ranks[k]["index"];
    const float logit = pipe.logits(query, texts[i])[0];
    EXPECT_NEAR(ranks[k]["score"].get<double>(), 1.0 / (1.0 + std::exp(-double(logit))), 1e-5);
    EXPECT_EQ(ranks[k]["text"], texts[i]);
    if (k > 0) {
      EXPECT_GE(ranks[k - 1]["score"].get<double>(), ranks[k]["score"].get<double>());
    }
    EXPECT_FALSE(raw[k].contains("text"));
    EXPECT_NEAR(raw[k]["score"].get<double>(), pipe.logits(query, texts[raw[k]["index"].get<std::size_t>()])[0], 1e-5);
  }
  EXPECT_EQ(post_checked(c, "/rerank", {{"query", query}, {"texts", Json::array()}}).status, 400);
  EXPECT_EQ(post_checked(c, "/rerank", {{"query", query}, {"texts", std::vector<std::string>(40, "x")}}).status, 413);
  // /predict serves a reranker too (sigmoid of its one logit).
  auto p = post_checked(c, "/predict", {{"inputs", {query, texts[0]}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_NEAR(p.json()[0]["score"].get<double>(), 1.0 / (1.0 + std::exp(-double(pipe.logits(query, texts[0])[0]))),
              1e-5);
}

TEST_F(ModelServers, EmbedSparseIsSpladeOverTheMaskedLmLogits) {
  auto& s = fixture_server("onnx/bert-tiny-mlm", "splade");
  HttpClient c(s.port());
  EXPECT_EQ(c.get("/info").json()["model_type"]["embedding"]["pooling"], "splade");
  const std::vector<std::string> texts = {"Paris is the capital of France.", "Hello world!"};
  auto r = post_checked(c, "/embed_sparse", {{"inputs", texts}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto model = models::ORTModelForMaskedLM::from_pretrained((fixtures_ / "onnx/bert-tiny-mlm").string());
  auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures_ / "onnx/bert-tiny-mlm");
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto out = model.forward(tok({texts[i]}).to_tensors());
    const Tensor& logits = out.logits;  // [1, seq, vocab]
    const std::int64_t S = logits.dim(1), V = logits.dim(2);
    std::vector<float> expected(static_cast<std::size_t>(V), 0.f);
    for (std::int64_t t = 0; t < S; ++t)
      for (std::int64_t k = 0; k < V; ++k)
        expected[k] = std::max(expected[k], std::log1p(std::max(logits.data<float>()[t * V + k], 0.f)));
    std::size_t nonzero = 0;
    for (float x : expected) nonzero += x > 0;
    const Json got = r.json()[i];
    ASSERT_EQ(got.size(), nonzero);
    for (const auto& e : got) EXPECT_NEAR(e["value"].get<double>(), expected[e["index"].get<std::size_t>()], 1e-5);
  }
  EXPECT_EQ(post_checked(c, "/embed", {{"inputs", "x"}}).status, 424);
}

TEST_F(ModelServers, PipelineRouteEqualsThePipelineCall) {
  struct Case {
    std::string folder, task;
    Json input, parameters;
  };
  const std::vector<Case> cases = {
      {"onnx/bert-tiny-ner",
       "token-classification",
       "John Smith works at Google in New York City.",
       {{"aggregation_strategy", "simple"}}},
      {"onnx/bert-tiny-qa",
       "question-answering",
       {{"question", "Where does John work?"}, {"context", "John Smith works at Google in New York City."}},
       Json::object()},
      {"onnx/bert-tiny-mlm", "fill-mask", "Paris is the [MASK] of France.", {{"top_k", 3}}},
      {"onnx/bert-tiny-nli",
       "zero-shot-classification",
       "I love this movie.",
       {{"candidate_labels", {"positive", "negative"}}}},
  };
  for (const auto& k : cases) {
    auto& s = fixture_server(k.folder);
    HttpClient c(s.port());
    auto pipe = pipelines::pipeline(k.task, (fixtures_ / k.folder).string());
    const Json expected = pipe->call(k.input, k.parameters);
    for (const char* route : {"/", "/pipeline"}) {
      auto r = c.post(route, {{"inputs", k.input}, {"parameters", k.parameters}});
      ASSERT_EQ(r.status, 200) << k.task << " " << r.body;
      expect_json_near(r.json(), expected, 1e-5);
    }
    auto bad = c.post("/pipeline", {{"parameters", k.parameters}});
    EXPECT_EQ(bad.status, 422) << k.task;
    EXPECT_EQ(c.post("/embed", {{"inputs", "x"}}).status, 424);
  }
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string base64(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? tbl[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? tbl[n & 63] : '=';
  }
  return out;
}

TEST_F(ModelServers, ImageAndAudioAsRawBodyOrBase64) {
  struct Case {
    std::string folder, task, file, content_type;
  };
  const std::vector<Case> cases = {
      {"onnx/vit-tiny-cls", "image-classification", "media/images/gradient_64x48.png", "image/png"},
      {"onnx/wav2vec2-tiny-audiocls", "audio-classification", "media/audio/speech_16k_mono.wav", "audio/wav"},
      {"onnx/vit-gpt2-tiny", "image-to-text", "media/images/gradient_64x48.png", "image/png"},
      {"onnx/pix2struct-tiny", "image-to-text", "media/images/scene_640x480.jpg", "image/jpeg"},
  };
  for (const auto& k : cases) {
    auto& s = fixture_server(k.folder);
    HttpClient c(s.port());
    const fs::path file = fixtures_ / k.file;
    const Json expected = pipelines::pipeline(k.task, (fixtures_ / k.folder).string())->call(file.string());
    auto raw = c.request("POST", "/pipeline", read_bytes(file), {}, k.content_type);
    ASSERT_EQ(raw.status, 200) << k.task << " " << raw.body;
    expect_json_near(raw.json(), expected, 1e-5);
    auto b64 = c.post("/", {{"inputs", base64(read_bytes(file))}});
    ASSERT_EQ(b64.status, 200) << k.task << " " << b64.body;
    expect_json_near(b64.json(), expected, 1e-5);
    // A path is never read from the server's disk; garbage bytes are a clean 4xx.
    EXPECT_EQ(c.post("/", {{"inputs", Json::array({file.string()})}}).status, 422);
    auto garbage = c.request("POST", "/pipeline", "not an image at all", {}, k.content_type);
    EXPECT_GE(garbage.status, 400);
    EXPECT_LT(garbage.status, 500);
    EXPECT_EQ(c.get("/health").status, 200);
  }
}

// The Inference API's `parameters` reach the image-to-text pipeline (generate kwargs, prompt errors as 422).
TEST_F(ModelServers, ImageToTextParameters) {
  auto& s = fixture_server("onnx/vit-gpt2-tiny");
  HttpClient c(s.port());
  const fs::path file = fixtures_ / "media/images/shapes_37x53.png";
  const Json kwargs{{"max_new_tokens", 4}, {"generate_kwargs", {{"num_beams", 2}}}};
  const Json expected =
      pipelines::pipeline("image-to-text", (fixtures_ / "onnx/vit-gpt2-tiny").string())->call(file.string(), kwargs);
  auto r = c.post("/", {{"inputs", base64(read_bytes(file))}, {"parameters", kwargs}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), expected);
  auto bad = c.post("/", {{"inputs", base64(read_bytes(file))}, {"parameters", {{"prompt", "a photo of"}}}});
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("does not support conditional text generation"), std::string::npos) << bad.body;
}

TEST_F(ModelServers, ApiKeyGuardsEveryRouteButHealth) {
  auto& s = shared_server("api-key", [&] {
    auto o = loopback_options((fixtures_ / "onnx/bert-tiny-seqcls").string());
    o.api_key = "s3cret";
    return o;
  });
  HttpClient c(s.port());
  auto denied = c.post("/predict", {{"inputs", "hi"}});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.json()["error_type"], "Unauthorized");
  EXPECT_EQ(c.post("/predict", {{"inputs", "hi"}}, {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(c.post("/predict", {{"inputs", "hi"}}, {{"Authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(c.get("/info").status, 401);
  EXPECT_EQ(c.get("/health").status, 200);
}

// A text longer than the model takes is TEI's 413 Validation on every route that receives text, with /predict's
// message, never ONNX Runtime's error (issue 23 item 2); a truncating parameter still works where the pipeline has one.
TEST_F(ModelServers, TooLongInputIs413OnEveryRoute) {
  std::string long_text;
  for (int i = 0; i < 2300; ++i) long_text += "hello ";
  const std::string message = "`inputs` must have less than 512 tokens. Given: 2302";
  const auto expect_413 = [&](HttpClient& c, const std::string& path, const Json& body, const std::string& msg) {
    auto r = path == "/" || path == "/pipeline" ? c.post(path, body) : post_checked(c, path, body);
    EXPECT_EQ(r.status, 413) << path << " " << body.dump().substr(0, 80) << ": " << r.body.substr(0, 300);
    if (r.status == 413) {
      EXPECT_EQ(r.json()["error_type"], "Validation") << path;
      EXPECT_EQ(r.json()["error"], msg) << path;
    }
  };
  {
    HttpClient c(fixture_server("onnx/bert-tiny-seqcls").port());
    expect_413(c, "/predict", {{"inputs", long_text}}, message);
    expect_413(c, "/", {{"inputs", long_text}}, message);
    expect_413(c, "/pipeline", {{"inputs", long_text}}, message);
    expect_413(c, "/", {{"inputs", Json::array({"short", long_text})}}, message);
    expect_413(c, "/pipeline", {{"inputs", {{"text", long_text}, {"text_pair", "short"}}}},
               "`inputs` must have less than 512 tokens. Given: 2304");
    // The pipeline's own truncation parameter: the text-classification answer of the first 512 tokens.
    auto truncated = c.post("/", {{"inputs", long_text}, {"parameters", {{"truncation", true}}}});
    EXPECT_EQ(truncated.status, 200) << truncated.body;
    auto tokens = post_checked(c, "/tokenize", {{"inputs", long_text}});
    ASSERT_EQ(tokens.status, 200);  // /tokenize runs no model: it answers the tokens of any text
    EXPECT_EQ(tokens.json()[0].size(), 2302u);
    EXPECT_EQ(post_checked(c, "/predict", {{"inputs", "still serving"}}).status, 200);
  }
  {
    const fs::path dir = one_label_checkpoint(fixtures_);
    auto& s = shared_server("reranker", [&] {
      auto o = loopback_options(dir.string());
      o.export_model = true;
      return o;
    });
    HttpClient c(s.port());
    expect_413(c, "/rerank", {{"query", "a query"}, {"texts", Json::array({"short", long_text})}},
               "`inputs` must have less than 512 tokens. Given: 2305");
    expect_413(c, "/predict", {{"inputs", Json::array({"a query", long_text})}},
               "`inputs` must have less than 512 tokens. Given: 2305");
    expect_413(c, "/", {{"inputs", long_text}}, message);
  }
  {
    HttpClient c(fixture_server("onnx/bert-tiny-mlm", "splade").port());
    expect_413(c, "/embed_sparse", {{"inputs", long_text}}, message);
    expect_413(c, "/", {{"inputs", long_text + "[MASK]"}}, "`inputs` must have less than 512 tokens. Given: 2303");
  }
}

}  // namespace
}  // namespace ortformers::testing
