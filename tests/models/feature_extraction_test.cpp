// ORTModelForFeatureExtraction / CustomTasks against the PyTorch reference outputs recorded in
// ../shared/fixtures/reference, fed the recorded input ids (tokenizer-independent).
#include <gtest/gtest.h>

#include "ortformers/models/ort_model.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

using ortformers::testing::ref_inputs;

TensorMap inputs_from_tokenization(const Json& tok, const std::vector<std::string>& names) {
  return ref_inputs(tok, names);
}

TensorMap batch_inputs(const Json& batch, const std::vector<std::string>& names) {
  return ortformers::testing::ref_batch_inputs(batch.at("inputs"), names);
}

struct Case {
  std::string reference;  // reference/<name>.json
  std::string onnx_dir;   // onnx/<dir>
  std::string output;     // reference output name to compare with last_hidden_state
};

class FeatureExtractionParity : public ::testing::TestWithParam<Case> {};

TEST_P(FeatureExtractionParity, LastHiddenStateMatchesPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case c = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (c.reference + ".json"));
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / c.onnx_dir).string());
  const auto names = model.input_names();
  int checked = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const Json& tok = ref.at("tokenization").at(mo.at("tokenization_index").get<std::size_t>());
    auto out = model.forward(inputs_from_tokenization(tok, names));
    const double diff = ortformers::testing::max_abs_diff(
        out.last_hidden_state, ortformers::testing::ref_tensor(mo.at("outputs").at(c.output)));
    EXPECT_LE(diff, 1e-4) << c.onnx_dir << " text: " << tok.at("text");
    ++checked;
  }
  EXPECT_GT(checked, 5);
  // Padded batch (right padding), padded positions included.
  auto out = model.forward(batch_inputs(ref.at("batch"), names));
  EXPECT_LE(ortformers::testing::max_abs_diff(
                out.last_hidden_state, ortformers::testing::ref_tensor(ref.at("batch").at("outputs").at(c.output))),
            1e-4);
}

TEST_P(FeatureExtractionParity, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case c = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (c.reference + ".json"));
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / c.onnx_dir).string());
  const auto names = model.input_names();
  const Json& batch = ref.at("batch");
  auto batched = model.forward(batch_inputs(batch, names)).last_hidden_state;
  const auto& mask_rows = batch.at("inputs").at("attention_mask");
  const std::int64_t seq = batched.dim(1), hidden = batched.dim(2);
  for (std::size_t b = 0; b < mask_rows.size(); ++b) {
    TensorMap single;
    std::int64_t len = 0;
    for (const auto& v : mask_rows[b]) len += v.get<std::int64_t>();
    for (const auto& name : names) {
      if (!batch.at("inputs").contains(name)) continue;
      auto row = batch.at("inputs").at(name).at(b).get<std::vector<std::int64_t>>();
      row.resize(static_cast<std::size_t>(len));
      single.emplace(name, Tensor::from_vector(std::move(row), {1, len}));
    }
    auto one = model.forward(single).last_hidden_state;
    const float* a = one.data<float>();
    const float* full = batched.data<float>() + static_cast<std::int64_t>(b) * seq * hidden;
    double m = 0;
    for (std::int64_t i = 0; i < len * hidden; ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - full[i])));
    EXPECT_LE(m, 1e-5) << "row " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FeatureExtractionParity,
                         ::testing::Values(Case{"bert-tiny", "bert-tiny", "last_hidden_state"},
                                           Case{"distilbert-tiny", "distilbert-tiny", "last_hidden_state"},
                                           Case{"roberta-tiny", "roberta-tiny", "last_hidden_state"},
                                           Case{"albert-tiny", "albert-tiny", "last_hidden_state"},
                                           Case{"minilm-tiny-st", "minilm-tiny-st-transformers", "last_hidden_state"},
                                           Case{"minilm-tiny-st", "minilm-tiny-st", "last_hidden_state"}),
                         [](const auto& info) {
                           std::string n = info.param.onnx_dir;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(FeatureExtraction, TokenTypeIdsDefaultToZeros) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  TensorMap in{{"input_ids", Tensor::from_values<std::int64_t>({101, 7592, 2088, 999, 102}, {1, 5})},
               {"attention_mask", Tensor::from_values<std::int64_t>({1, 1, 1, 1, 1}, {1, 5})}};
  auto a = model.forward(in).last_hidden_state;
  in.emplace("token_type_ids", Tensor::zeros(DType::Int64, {1, 5}));
  auto b = model.forward(in).last_hidden_state;
  EXPECT_EQ(a.to_float_vector(), b.to_float_vector());
}

TEST(FeatureExtraction, Int32InputsAreCastToTheGraphType) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  TensorMap in64{{"input_ids", Tensor::from_values<std::int64_t>({101, 7592, 102}, {1, 3})},
                 {"attention_mask", Tensor::from_values<std::int64_t>({1, 1, 1}, {1, 3})}};
  TensorMap in32{{"input_ids", Tensor::from_values<std::int32_t>({101, 7592, 102}, {1, 3})},
                 {"attention_mask", Tensor::from_values<std::int32_t>({1, 1, 1}, {1, 3})}};
  EXPECT_EQ(model.forward(in64).last_hidden_state.to_float_vector(),
            model.forward(in32).last_hidden_state.to_float_vector());
}

TEST(FeatureExtraction, BadInputsAreClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  auto ids = Tensor::from_values<std::int64_t>({101, 102}, {1, 2});
  auto mask = Tensor::from_values<std::int64_t>({1, 1}, {1, 2});
  // Missing required input.
  try {
    model.forward({{"input_ids", ids}});
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("attention_mask"), std::string::npos) << e.what();
  }
  // An input the graph does not take is ignored, as optimum's ORTModel classes ignore extra keyword arguments
  // (issue 13: `forward` / ORTModel::run drop unknown inputs).
  EXPECT_EQ(
      model
          .forward(
              {{"input_ids", ids}, {"attention_mask", mask}, {"pixel_values", Tensor::zeros(DType::Float32, {1, 3})}})
          .last_hidden_state.to_float_vector(),
      model.forward({{"input_ids", ids}, {"attention_mask", mask}}).last_hidden_state.to_float_vector());
  // Wrong dtype and wrong rank.
  EXPECT_THROW(model.forward({{"input_ids", Tensor::from_values<float>({1.f, 2.f}, {1, 2})}, {"attention_mask", mask}}),
               InvalidArgument);
  EXPECT_THROW(
      model.forward({{"input_ids", Tensor::from_values<std::int64_t>({101, 102}, {2})}, {"attention_mask", mask}}),
      InvalidArgument);
}

TEST(FeatureExtraction, MissingOrBrokenFilesAreClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  EXPECT_THROW(ORTModelForFeatureExtraction::from_pretrained("/nonexistent/model"), NotFoundError);
  // A folder with a checkpoint but no ONNX file.
  EXPECT_THROW(ORTModelForFeatureExtraction::from_pretrained((fixtures / "models" / "bert-tiny").string()),
               NotFoundError);
  // Malformed config.json next to a valid graph.
  auto dir = ortformers::testing::make_temp_dir("badcfg");
  fs::copy_file(fixtures / "onnx" / "bert-tiny" / "model.onnx", dir / "model.onnx");
  write_text_file(dir / "config.json", "{\"model_type\": \"bert\",");
  try {
    ORTModelForFeatureExtraction::from_pretrained(dir.string());
    FAIL() << "expected an error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
  // A corrupt ONNX file.
  write_text_file(dir / "config.json", "{\"model_type\": \"bert\"}");
  write_text_file(dir / "model.onnx", "not a protobuf");
  EXPECT_THROW(ORTModelForFeatureExtraction::from_pretrained(dir.string()), FileFormatError);
  fs::remove_all(dir);
}

TEST(FeatureExtraction, SavePretrainedRoundTrips) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "onnx" / "bert-tiny").string());
  auto dir = ortformers::testing::make_temp_dir("save");
  model.save_pretrained(dir);
  auto again = ORTModelForFeatureExtraction::from_pretrained(dir.string());
  EXPECT_EQ(again.config().model_type(), "bert");
  EXPECT_EQ(again.input_names(), model.input_names());
  fs::remove_all(dir);
}

TEST(CustomTasks, ReturnsEveryOutputByName) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForCustomTasks::from_pretrained((fixtures / "onnx" / "minilm-tiny-st").string());
  TensorMap in{{"input_ids", Tensor::from_values<std::int64_t>({101, 7592, 2088, 999, 102}, {1, 5})},
               {"attention_mask", Tensor::from_values<std::int64_t>({1, 1, 1, 1, 1}, {1, 5})}};
  auto out = model.forward(in);
  ASSERT_TRUE(out.count("token_embeddings"));
  ASSERT_TRUE(out.count("sentence_embedding"));
  EXPECT_EQ(out.at("sentence_embedding").shape(), (Shape{1, 32}));
}

TEST(CustomTasks, UseLiteSentenceEmbeddingMatchesReference) {
  ORTFORMERS_REQUIRE_REALMODELS(realmodels);
  const fs::path dir = realmodels / "use-lite-en";
  const Json vectors = read_json_file(dir / "test_vectors.json");
  auto model = ORTModelForCustomTasks::from_pretrained(dir.string());
  const auto& ids_list = vectors.at("token_ids");
  const auto& embeddings = vectors.at("sentence_embedding");
  ASSERT_EQ(ids_list.size(), embeddings.size());
  int checked = 0;
  for (std::size_t k = 0; k < ids_list.size(); ++k) {
    auto ids = ids_list[k].get<std::vector<std::int64_t>>();
    const auto n = static_cast<std::int64_t>(ids.size());
    TensorMap in{{"input_ids", Tensor::from_vector(ids, {1, n})},
                 {"attention_mask", Tensor::from_vector(std::vector<std::int64_t>(ids.size(), 1), {1, n})}};
    auto out = model.forward(in);
    auto expected = embeddings[k].get<std::vector<float>>();
    auto actual = out.at("sentence_embedding").to_float_vector();
    ASSERT_EQ(actual.size(), expected.size());
    double m = 0;
    for (std::size_t i = 0; i < actual.size(); ++i)
      m = std::max(m, static_cast<double>(std::fabs(actual[i] - expected[i])));
    EXPECT_LE(m, 1e-5) << "sentence " << k << ": " << vectors.at("sentences")[k];
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace

namespace {

// optimum's from_pretrained(checkpoint_dir, export=True): exported natively into the content-keyed cache, reused.
TEST(FeatureExtraction, ExportTrueLoadsAPyTorchCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto cache = ortformers::testing::make_temp_dir("export-cache");
  ::setenv("ORTFORMERS_CACHE", cache.c_str(), 1);
  ModelOptions o;
  o.export_model = true;
  auto model = ORTModelForFeatureExtraction::from_pretrained((fixtures / "models" / "bert-tiny").string(), o);
  EXPECT_NE(model.model_dir().string().find(cache.string()), std::string::npos) << model.model_dir();
  const Json ref = read_json_file(fixtures / "reference" / "bert-tiny.json");
  const Json& mo = ref.at("model_outputs")[1];
  const Json& tok = ref.at("tokenization").at(mo.at("tokenization_index").get<std::size_t>());
  auto out = model.forward(inputs_from_tokenization(tok, model.input_names()));
  EXPECT_LE(ortformers::testing::max_abs_diff(
                out.last_hidden_state, ortformers::testing::ref_tensor(mo.at("outputs").at("last_hidden_state"))),
            1e-4);
  // Second load: the cached export is reused (same folder).
  auto again = ORTModelForFeatureExtraction::from_pretrained((fixtures / "models" / "bert-tiny").string(), o);
  EXPECT_EQ(again.model_dir(), model.model_dir());
  ::unsetenv("ORTFORMERS_CACHE");
  fs::remove_all(cache);
}

}  // namespace
