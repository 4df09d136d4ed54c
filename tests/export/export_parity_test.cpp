// Parity of the native exporter with PyTorch (the recorded reference outputs) and with optimum's export
// (input/output names and dynamic axes), for every text model folder of the fixtures, plain and --optimize.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using ortformers::testing::max_abs_diff;
using ortformers::testing::ref_tensor;

namespace {

// Max |actual - ref| for a reference tensor, honouring the masked-LM `columns` subset.
double diff(const Tensor& actual, const Json& ref) {
  if (!ref.contains("columns")) return max_abs_diff(actual, ref_tensor(ref));
  const auto cols = ref.at("columns").get<std::vector<std::int64_t>>();
  const auto shape = ref.at("shape").get<Shape>();
  EXPECT_EQ(shape_to_string(actual.shape()), shape_to_string(shape));
  const auto vocab = shape.back();
  const auto rows = shape_numel(shape) / vocab;
  auto vals = actual.to_float_vector();
  const auto& data = ref.at("data");
  double m = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols.size(); ++c) {
      double d = std::fabs(vals[r * vocab + cols[c]] - data[r * cols.size() + c].get<double>());
      if (std::isnan(d)) return INFINITY;
      m = std::max(m, d);
    }
  return m;
}

struct Case {
  std::string name;       // reference/<name>.json and models/<name>
  std::string onnx_name;  // key in reference "onnx"
  std::string library;    // library_name option
};

std::vector<Case> cases() {
  return {{"bert-tiny", "bert-tiny", "auto"},
          {"bert-tiny-mlm", "bert-tiny-mlm", "auto"},
          {"bert-tiny-multiple-choice", "bert-tiny-multiple-choice", "auto"},
          {"bert-tiny-ner", "bert-tiny-ner", "auto"},
          {"bert-tiny-nli", "bert-tiny-nli", "auto"},
          {"bert-tiny-qa", "bert-tiny-qa", "auto"},
          {"bert-tiny-seqcls", "bert-tiny-seqcls", "auto"},
          {"distilbert-tiny", "distilbert-tiny", "auto"},
          {"distilbert-tiny-qa", "distilbert-tiny-qa", "auto"},
          {"electra-tiny-ner", "electra-tiny-ner", "auto"},
          {"albert-tiny", "albert-tiny", "auto"},
          {"roberta-tiny", "roberta-tiny", "auto"},
          {"roberta-tiny-seqcls", "roberta-tiny-seqcls", "auto"},
          {"minilm-tiny-st", "minilm-tiny-st", "auto"},
          {"minilm-tiny-st", "minilm-tiny-st-transformers", "transformers"},
          {"deberta-v3-tiny", "deberta-v3-tiny", "auto"},
          {"deberta-v3-tiny-nli", "deberta-v3-tiny-nli", "auto"},
          {"xlm-roberta-tiny", "xlm-roberta-tiny", "auto"},
          {"xlm-roberta-tiny-st", "xlm-roberta-tiny-st", "auto"},
          {"xlm-roberta-tiny-st", "xlm-roberta-tiny-st-transformers", "transformers"},
          {"mpnet-tiny-st", "mpnet-tiny-st", "auto"},
          {"mpnet-tiny-st", "mpnet-tiny-st-transformers", "transformers"}};
}

class ExportParity : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

void check_io(const BuiltModel& built, const Json& rec) {
  const auto& g = built.model.graph();
  ASSERT_EQ(static_cast<std::size_t>(g.input_size()), rec.at("inputs").size());
  for (int i = 0; i < g.input_size(); ++i) {
    const auto& r = rec.at("inputs")[i];
    EXPECT_EQ(g.input(i).name(), r.at("name").get<std::string>());
    EXPECT_EQ(g.input(i).type().tensor_type().elem_type(), r.at("elem_type").get<int>());
    const auto& dims = g.input(i).type().tensor_type().shape();
    ASSERT_EQ(static_cast<std::size_t>(dims.dim_size()), r.at("shape").size());
    for (int d = 0; d < dims.dim_size(); ++d) EXPECT_EQ(dims.dim(d).dim_param(), r.at("shape")[d].get<std::string>());
  }
  ASSERT_EQ(static_cast<std::size_t>(g.output_size()), rec.at("outputs").size());
  for (int i = 0; i < g.output_size(); ++i) {
    const auto& r = rec.at("outputs")[i];
    EXPECT_EQ(g.output(i).name(), r.at("name").get<std::string>());
    EXPECT_EQ(g.output(i).type().tensor_type().elem_type(), r.at("elem_type").get<int>());
    const auto& dims = g.output(i).type().tensor_type().shape();
    ASSERT_EQ(static_cast<std::size_t>(dims.dim_size()), r.at("shape").size());
    for (int d = 0; d < dims.dim_size(); ++d) {
      const auto& rd = r.at("shape")[d];
      if (rd.is_string())
        EXPECT_EQ(dims.dim(d).dim_param(), rd.get<std::string>());
      else
        EXPECT_EQ(dims.dim(d).dim_value(), rd.get<std::int64_t>());
    }
  }
}

TEST_P(ExportParity, MatchesPyTorchAndOptimumIO) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [c, optimize] = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (c.name + ".json"));
  const Json& rec = ref.at("onnx").at(c.onnx_name);
  ExportOptions opts;
  opts.task = rec.at("task").get<std::string>();
  opts.optimize = optimize;
  opts.library_name = c.library;
  auto built = build_model(fixtures / "models" / c.name, opts);
  check_io(built, rec);
  ortformers::testing::OrtRunner run(built.model);
  const double tol = 1e-4;
  const bool st = c.library == "auto" && built.library_name == "sentence_transformers";
  auto out_name = [&](const std::string& ref_name) -> std::string {
    if (st && ref_name == "last_hidden_state") return "token_embeddings";
    return ref_name;
  };
  int compared = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& tok = ref.at("tokenization")[mo.at("tokenization_index").get<std::size_t>()];
    const auto n = static_cast<std::int64_t>(tok.at("input_ids").size());
    auto out = run.run(tok, {1, n});
    for (const auto& [k, v] : mo.at("outputs").items()) {
      const auto name = out_name(k);
      if (!out.count(name)) continue;  // pooler_output: not in optimum's export either
      EXPECT_LT(diff(out.at(name), v), tol) << c.name << " " << name << " text #" << mo.at("tokenization_index");
      ++compared;
    }
  }
  if (ref.contains("batch")) {
    const auto& b = ref.at("batch");
    const auto& ids = b.at("inputs").at("input_ids");
    auto out =
        run.run(b.at("inputs"), {static_cast<std::int64_t>(ids.size()), static_cast<std::int64_t>(ids[0].size())});
    for (const auto& [k, v] : b.at("outputs").items()) {
      const auto name = out_name(k);
      if (!out.count(name)) continue;
      EXPECT_LT(diff(out.at(name), v), tol) << c.name << " batch " << name;
      ++compared;
    }
  }
  if (ref.contains("multiple_choice")) {
    for (const auto& ex : ref.at("multiple_choice")) {
      const auto& ids = ex.at("inputs").at("input_ids");
      Shape shape{static_cast<std::int64_t>(ids.size()), static_cast<std::int64_t>(ids[0].size()),
                  static_cast<std::int64_t>(ids[0][0].size())};
      auto out = run.run(ex.at("inputs"), shape);
      EXPECT_LT(diff(out.at("logits"), ex.at("outputs").at("logits")), tol) << c.name << " multiple choice";
      ++compared;
    }
  }
  if (st) {
    // sentence_embedding vs SentenceTransformer.encode (pooling + Normalize), text by text.
    const auto& se = ref.at("pipelines").at("sentence-embeddings");
    const auto emb = ref_tensor(se.at("embeddings"));
    const auto dim = emb.shape.at(1);
    for (std::size_t i = 0; i < se.at("inputs").size(); ++i) {
      const auto text = se.at("inputs")[i].get<std::string>();
      const Json* tok = nullptr;
      for (const auto& t : ref.at("tokenization"))
        if (t.at("text") == text && !t.contains("text_pair")) tok = &t;
      ASSERT_NE(tok, nullptr) << text;
      auto out = run.run(*tok, {1, static_cast<std::int64_t>(tok->at("input_ids").size())});
      auto got = out.at("sentence_embedding").to_float_vector();
      ASSERT_EQ(static_cast<std::int64_t>(got.size()), dim);
      double m = 0;
      for (std::int64_t d = 0; d < dim; ++d) m = std::max(m, std::fabs(double(got[d]) - emb.data[i * dim + d]));
      EXPECT_LT(m, tol) << "sentence_embedding of text #" << i;
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExportParity, ::testing::Combine(::testing::ValuesIn(cases()), ::testing::Bool()),
                         [](const auto& info) {
                           std::string n =
                               std::get<0>(info.param).onnx_name + (std::get<1>(info.param) ? "_optimized" : "_plain");
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
