// feature-extraction and sentence-embeddings pipelines against transformers / sentence-transformers outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "ortformers/pipelines/feature_extraction.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::pipelines;
namespace fs = std::filesystem;
namespace ot = ortformers::testing;

namespace {

double max_diff_nested(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return std::fabs(a.get<double>() - b.get<double>());
  if (!a.is_array() || !b.is_array() || a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, max_diff_nested(a[i], b[i]));
  return m;
}

class FeatureExtractionPipelineParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FeatureExtractionPipelineParity, MatchesTransformersPipeline) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const std::string name = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  if (!ref.at("pipelines").contains("feature-extraction")) GTEST_SKIP() << "no feature-extraction reference";
  auto pipe = pipeline("feature-extraction", (fixtures / "onnx" / name).string());
  int n = 0;
  for (const auto& c : ref.at("pipelines").at("feature-extraction")) {
    const Json out = pipe->call(c.at("input"), c.at("kwargs"));
    EXPECT_LE(max_diff_nested(out, c.at("output")), 1e-4) << name << ": " << c.at("input");
    ++n;
  }
  EXPECT_GT(n, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FeatureExtractionPipelineParity,
                         ::testing::Values("bert-tiny", "distilbert-tiny", "roberta-tiny", "albert-tiny",
                                           "deberta-v3-tiny", "xlm-roberta-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(FeatureExtractionPipeline, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto pipe = FeatureExtractionPipeline::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  const std::vector<std::string> texts{"Hello world!", "The quick brown fox jumps over the lazy dog.", "", "a b"};
  auto batched = (*pipe)(texts);
  ASSERT_EQ(batched.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto single = (*pipe)(texts[i]);
    ASSERT_EQ(single.shape(), batched[i].shape()) << texts[i];
    auto a = single.to_float_vector(), b = batched[i].to_float_vector();
    double m = 0;
    for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, static_cast<double>(std::fabs(a[k] - b[k])));
    EXPECT_LE(m, 1e-5) << texts[i];
  }
}

TEST(FeatureExtractionPipeline, LongTextNeedsTruncation) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto pipe = FeatureExtractionPipeline::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  std::string text;
  for (int i = 0; i < 600; ++i) text += "word ";
  try {
    (*pipe)(text);
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("512"), std::string::npos) << e.what();
  }
  FeatureExtractionOptions o;
  o.truncation = true;
  EXPECT_EQ((*pipe)(text, o).shape(), (Shape{1, 512, 32}));
  o.tokenize.max_length = 16;
  EXPECT_EQ((*pipe)(text, o).shape(), (Shape{1, 16, 32}));
  // Empty text: [CLS] [SEP], as transformers.
  EXPECT_EQ((*pipe)(std::string()).shape(), (Shape{1, 2, 32}));
}

TEST(FeatureExtractionPipeline, BadArgumentsAreClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto pipe = pipeline("feature-extraction", (fixtures / "onnx" / "bert-tiny").string());
  EXPECT_THROW(pipe->call("hi", {{"no_such_option", 1}}), InvalidArgument);
  EXPECT_THROW(pipe->call(Json(42)), InvalidArgument);
  EXPECT_THROW(pipe->call("hi", {{"tokenize_kwargs", {{"max_length", -3}}}}), InvalidArgument);
  EXPECT_THROW(pipeline("no-such-task", (fixtures / "onnx" / "bert-tiny").string()), UnsupportedError);
}

// sentence-transformers: both graph forms, with the folder's Pooling/Normalize/max_seq_length.
struct StCase {
  std::string onnx_dir;
  bool graph_pools;
  std::string name = "minilm-tiny-st";  // reference/<name>.json, models/<name> (tokenizer, sentence-transformers files)
};
class SentenceEmbeddingsParity : public ::testing::TestWithParam<StCase> {};

TEST_P(SentenceEmbeddingsParity, MatchesSentenceTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / (GetParam().name + ".json"));
  const Json& st = ref.at("pipelines").at("sentence-embeddings");
  PipelineOptions po;
  po.tokenizer = (fixtures / "models" / GetParam().name).string();  // tokenizer + sentence-transformers files
  auto pipe = SentenceEmbeddingsPipeline::from_pretrained((fixtures / "onnx" / GetParam().onnx_dir).string(), po);
  EXPECT_EQ(pipe->model().session().has_output("sentence_embedding"), GetParam().graph_pools);
  EXPECT_EQ(pipe->max_seq_length(), st.at("max_seq_length").get<std::size_t>());
  EXPECT_TRUE(pipe->st_config().normalize);
  const auto texts = st.at("inputs").get<std::vector<std::string>>();
  EncodeOptions eo;
  eo.batch_size = 4;
  Tensor emb = pipe->encode(texts, eo);
  EXPECT_LE(ot::max_abs_diff(emb, ot::ref_tensor(st.at("embeddings"))), 1e-4);
  // One at a time gives the same vectors.
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto v = pipe->encode(texts[i]);
    double m = 0;
    for (std::size_t k = 0; k < v.size(); ++k)
      m = std::max(m, static_cast<double>(std::fabs(v[k] - emb.data<float>()[i * v.size() + k])));
    EXPECT_LE(m, 1e-5) << texts[i];
  }
  // Cosine similarity matrix.
  Tensor sim = cos_sim(emb, emb);
  const auto& ref_sim = st.at("cosine_similarity");
  double m = 0;
  for (std::size_t i = 0; i < texts.size(); ++i)
    for (std::size_t j = 0; j < texts.size(); ++j)
      m = std::max(m, std::fabs(sim.data<float>()[i * texts.size() + j] - ref_sim[i][j].get<double>()));
  EXPECT_LE(m, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Forms, SentenceEmbeddingsParity,
                         ::testing::Values(StCase{"minilm-tiny-st", true}, StCase{"minilm-tiny-st-transformers", false},
                                           StCase{"xlm-roberta-tiny-st", true, "xlm-roberta-tiny-st"},
                                           StCase{"xlm-roberta-tiny-st-transformers", false, "xlm-roberta-tiny-st"},
                                           StCase{"mpnet-tiny-st", true, "mpnet-tiny-st"},
                                           StCase{"mpnet-tiny-st-transformers", false, "mpnet-tiny-st"}),
                         [](const auto& info) {
                           std::string n =
                               info.param.onnx_dir + (info.param.graph_pools ? "_graph_pools" : "_pooled_here");
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(SentenceEmbeddings, OverridesRecomputeFromTokenEmbeddings) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  PipelineOptions po;
  po.tokenizer = (fixtures / "models" / "minilm-tiny-st").string();
  auto with_graph = SentenceEmbeddingsPipeline::from_pretrained((fixtures / "onnx" / "minilm-tiny-st").string(), po);
  auto plain =
      SentenceEmbeddingsPipeline::from_pretrained((fixtures / "onnx" / "minilm-tiny-st-transformers").string(), po);
  for (auto mode : {PoolingMode::Cls, PoolingMode::Max, PoolingMode::MeanSqrtLen, PoolingMode::WeightedMean,
                    PoolingMode::LastToken}) {
    EncodeOptions o;
    o.pooling = mode;
    o.normalize = false;
    auto a = with_graph->encode("The quick brown fox.", o);
    auto b = plain->encode("The quick brown fox.", o);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5) << to_string(mode);
  }
  // Not normalised: the norm differs from 1; normalised: it is 1.
  EncodeOptions raw;
  raw.normalize = false;
  auto v = plain->encode("The quick brown fox.", raw);
  double n2 = 0;
  for (float x : v) n2 += x * x;
  EXPECT_GT(std::fabs(std::sqrt(n2) - 1.0), 1e-3);
  EXPECT_THROW(pooling_mode_from_string("median"), InvalidArgument);
}

TEST(Pooling, ModesOnAHandMadeTensor) {
  // batch 1, seq 3 (last position padded), hidden 2
  auto emb = Tensor::from_values<float>({1, 2, 3, 4, 100, 100}, {1, 3, 2});
  auto mask = Tensor::from_values<std::int64_t>({1, 1, 0}, {1, 3});
  auto run = [&](PoolingMode m) {
    PoolingConfig c;
    c.modes = {m};
    return pool(emb, mask, c).to_vector<float>();
  };
  EXPECT_EQ(run(PoolingMode::Cls), (std::vector<float>{1, 2}));
  EXPECT_EQ(run(PoolingMode::Max), (std::vector<float>{3, 4}));
  EXPECT_EQ(run(PoolingMode::Mean), (std::vector<float>{2, 3}));
  EXPECT_EQ(run(PoolingMode::LastToken), (std::vector<float>{3, 4}));
  auto w = run(PoolingMode::WeightedMean);  // weights 1, 2
  EXPECT_FLOAT_EQ(w[0], (1 * 1 + 3 * 2) / 3.f);
  auto s = run(PoolingMode::MeanSqrtLen);
  EXPECT_FLOAT_EQ(s[0], 4 / std::sqrt(2.f));
  PoolingConfig two;
  two.modes = {PoolingMode::Cls, PoolingMode::Mean};
  EXPECT_EQ(pool(emb, mask, two).shape(), (Shape{1, 4}));
}

}  // namespace
