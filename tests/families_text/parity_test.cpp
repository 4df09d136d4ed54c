// DeBERTa-v2/v3, XLM-RoBERTa and MPNet fixtures: the ORTModel on optimum's exports and the native export (plain,
// --optimize, --quantize int8, opset 14) against the PyTorch outputs of reference/<name>.json, every recorded text and
// the padded batch. Prints the measured max differences (the figures quoted in docs/export.md).
#include <gtest/gtest.h>

#include <cmath>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/models/ort_model.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
namespace ot = ortformers::testing;

namespace {

struct Case {
  std::string name;  // reference/<name>.json, models/<name>
  std::string onnx;  // key of reference "onnx" (and onnx/<dir>)
  std::string library;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {{"deberta-v3-tiny", "deberta-v3-tiny", "auto"},
                                      {"deberta-v3-tiny-nli", "deberta-v3-tiny-nli", "auto"},
                                      {"xlm-roberta-tiny", "xlm-roberta-tiny", "auto"},
                                      {"xlm-roberta-tiny-st", "xlm-roberta-tiny-st", "auto"},
                                      {"xlm-roberta-tiny-st", "xlm-roberta-tiny-st-transformers", "transformers"},
                                      {"mpnet-tiny-st", "mpnet-tiny-st", "auto"},
                                      {"mpnet-tiny-st", "mpnet-tiny-st-transformers", "transformers"}};
  return c;
}

// Graph output holding a recorded PyTorch output (the sentence-transformers export calls it token_embeddings).
std::string graph_name(const TensorMap& out, const std::string& ref_name) {
  if (out.count(ref_name)) return ref_name;
  if (ref_name == "last_hidden_state" && out.count("token_embeddings")) return "token_embeddings";
  return "";
}

struct Measured {
  double max_diff = 0;  // max |a - b| over every compared value
  double min_cos = 1;   // min cosine over the compared rows (last axis)
  int compared = 0;
};

void compare(const TensorMap& out, const Json& ref_outputs, Measured& m) {
  for (const auto& [k, v] : ref_outputs.items()) {
    const auto name = graph_name(out, k);
    if (name.empty()) continue;  // pooler_output: not in optimum's export either
    const auto ref = ot::ref_tensor(v);
    m.max_diff = std::max(m.max_diff, ot::max_abs_diff(out.at(name), ref));
    const auto got = out.at(name).to_float_vector();
    const auto row = static_cast<std::size_t>(ref.shape.back());
    for (std::size_t r = 0; r + row <= got.size(); r += row) {
      double dot = 0, na = 0, nb = 0;
      for (std::size_t i = r; i < r + row; ++i) {
        dot += double(got[i]) * ref.data[i];
        na += double(got[i]) * got[i];
        nb += double(ref.data[i]) * ref.data[i];
      }
      if (na > 0 && nb > 0) m.min_cos = std::min(m.min_cos, dot / std::sqrt(na * nb));
    }
    ++m.compared;
  }
}

// Every model_outputs entry (batch of one) and the padded batch through `run`.
template <class Run>
Measured measure(const Json& ref, Run&& run) {
  Measured m;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& tok = ref.at("tokenization")[mo.at("tokenization_index").get<std::size_t>()];
    compare(run(tok, Shape{1, static_cast<std::int64_t>(tok.at("input_ids").size())}), mo.at("outputs"), m);
  }
  const auto& b = ref.at("batch");
  const auto& ids = b.at("inputs").at("input_ids");
  compare(run(b.at("inputs"), Shape{static_cast<std::int64_t>(ids.size()), static_cast<std::int64_t>(ids[0].size())}),
          b.at("outputs"), m);
  return m;
}

class FamilyParity : public ::testing::TestWithParam<Case> {};

TEST_P(FamilyParity, OptimumExportThroughORTModel) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (c.name + ".json"));
  auto model = models::ORTModelForCustomTasks::from_pretrained((fixtures / "onnx" / c.onnx).string());
  const auto names = model.input_names();
  auto m = measure(ref, [&](const Json& src, const Shape& shape) {
    TensorMap in =
        shape[0] == 1 && src.contains("text") ? ot::ref_inputs(src, names) : ot::ref_batch_inputs(src, names);
    EXPECT_EQ(in.begin()->second.shape(), shape);
    return model.forward(in);
  });
  std::printf("[families-text] optimum %-34s max diff %.3g over %d outputs\n", c.onnx.c_str(), m.max_diff, m.compared);
  EXPECT_GT(m.compared, 5);
  EXPECT_LE(m.max_diff, 1e-4) << c.onnx;
}

TEST_P(FamilyParity, NativeExportPlainOptimizedInt8) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const Json ref = read_json_file(fixtures / "reference" / (c.name + ".json"));
  for (const char* form : {"plain", "optimized", "int8", "opset14"}) {
    exporters::ExportOptions o;
    o.task = ref.at("onnx").at(c.onnx).at("task").get<std::string>();
    o.library_name = c.library;
    o.optimize = std::string(form) == "optimized";
    if (std::string(form) == "int8") o.quantize = "int8";
    if (std::string(form) == "opset14") o.opset = 14;  // LayerNormalization decomposed
    auto built = exporters::build_model(fixtures / "models" / c.name, o);
    ot::OrtRunner runner(built.model);
    auto m = measure(ref, [&](const Json& src, const Shape& shape) { return runner.run(src, shape); });
    std::printf("[families-text] export %-9s %-34s max diff %.3g, min cosine %.6f over %d outputs\n", form,
                c.onnx.c_str(), m.max_diff, m.min_cos, m.compared);
    EXPECT_GT(m.compared, 5);
    if (std::string(form) == "int8")
      EXPECT_GE(m.min_cos, 0.99) << c.onnx;  // dynamic int8: a tolerance, not parity (docs/export.md)
    else
      EXPECT_LE(m.max_diff, 1e-4) << c.onnx << " " << form;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyParity, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.onnx;
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
