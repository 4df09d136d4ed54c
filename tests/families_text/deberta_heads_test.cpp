// DeBERTa-v2 heads without a PyTorch fixture (token-classification, question-answering, multiple-choice, fill-mask):
// built on deberta-v3-tiny's weights plus seeded head tensors, each head is checked against the same Linear algebra
// applied to the feature-extraction export's hidden states (verified against PyTorch in parity_test.cpp), and
// --optimize against plain.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;
namespace ot = ortformers::testing;

namespace {

constexpr std::int64_t kHidden = 32, kLabels = 3, kVocab = 1004;

struct Head {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

Head seeded(const std::string& name, Shape shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (auto& x : v) x = normal(rng);
  return {name, std::move(shape), std::move(v)};
}

// deberta-v3-tiny's base weights renamed under "deberta." plus `heads`, with config.json's architectures set.
fs::path checkpoint_with_heads(const fs::path& fixtures, const std::string& architecture,
                               const std::vector<Head>& heads) {
  const fs::path src = fixtures / "models" / "deberta-v3-tiny";
  const fs::path dir = ot::make_temp_dir("deberta_heads");
  exporters::StateDict sd = exporters::load_checkpoint(src);
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& n : sd.names()) ts.emplace_back("deberta." + n, sd.at(n));
  for (const auto& h : heads) ts.emplace_back(h.name, Tensor::from_vector(h.values, h.shape));
  exporters::save_safetensors(dir / "model.safetensors", ts, {{"format", "pt"}});
  Json cfg = read_json_file(src / "config.json");
  cfg["architectures"] = {architecture};
  cfg["id2label"] = {{"0", "A"}, {"1", "B"}, {"2", "C"}};
  cfg["label2id"] = {{"A", 0}, {"B", 1}, {"C", 2}};
  write_text_file(dir / "config.json", cfg.dump(2));
  return dir;
}

TensorMap feeds(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& mask, Shape shape) {
  return {{"input_ids", Tensor::from_vector(ids, shape)}, {"attention_mask", Tensor::from_vector(mask, shape)}};
}

// x [rows, in] @ W^T [in, out] + b.
std::vector<float> linear(const std::vector<float>& x, const Head& w, const Head& b) {
  const auto out = w.shape[0], in = w.shape[1];
  const auto rows = static_cast<std::int64_t>(x.size()) / in;
  std::vector<float> y(static_cast<std::size_t>(rows * out));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < out; ++o) {
      double s = b.values[o];
      for (std::int64_t i = 0; i < in; ++i) s += double(x[r * in + i]) * w.values[o * in + i];
      y[r * out + o] = static_cast<float>(s);
    }
  return y;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

// Hidden states of the verified feature-extraction export for the inputs.
std::vector<float> hidden_states(const fs::path& fixtures, const TensorMap& in) {
  exporters::ExportOptions o;
  o.task = "feature-extraction";
  ot::OrtRunner base(exporters::build_model(fixtures / "models" / "deberta-v3-tiny", o).model);
  return base.run(in).at("last_hidden_state").to_float_vector();
}

// Runs `task` on the checkpoint plain and optimised; returns the plain outputs after checking optimised == plain.
TensorMap run_task(const fs::path& dir, const std::string& task, const TensorMap& in) {
  TensorMap plain;
  for (bool optimize : {false, true}) {
    exporters::ExportOptions o;
    o.task = task;
    o.optimize = optimize;
    ot::OrtRunner r(exporters::build_model(dir, o).model);
    auto out = r.run(in);
    if (!optimize) {
      plain = out;
      continue;
    }
    for (const auto& [k, v] : plain)
      EXPECT_LE(max_diff(out.at(k).to_float_vector(), v.to_float_vector()), 1e-5) << task << " " << k;
  }
  return plain;
}

const std::vector<std::int64_t> kIds = {1000, 156, 86, 20, 891, 146, 1001, 1000, 68, 936, 1001, 1002, 1002, 1002};
const std::vector<std::int64_t> kMask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};

TEST(DebertaV2Heads, TokenClassificationAndQuestionAnsweringOnVerifiedHiddenStates) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const TensorMap in = feeds(kIds, kMask, {2, 7});
  const auto hidden = hidden_states(fixtures, in);
  const Head cw = seeded("classifier.weight", {kLabels, kHidden}, 1), cb = seeded("classifier.bias", {kLabels}, 2);
  auto tok = run_task(checkpoint_with_heads(fixtures, "DebertaV2ForTokenClassification", {cw, cb}),
                      "token-classification", in);
  EXPECT_EQ(tok.at("logits").shape(), (Shape{2, 7, kLabels}));
  EXPECT_LE(max_diff(tok.at("logits").to_float_vector(), linear(hidden, cw, cb)), 1e-5);

  const Head qw = seeded("qa_outputs.weight", {2, kHidden}, 3), qb = seeded("qa_outputs.bias", {2}, 4);
  auto qa =
      run_task(checkpoint_with_heads(fixtures, "DebertaV2ForQuestionAnswering", {qw, qb}), "question-answering", in);
  const auto both = linear(hidden, qw, qb);  // [14, 2]
  std::vector<float> start, end;
  for (std::size_t i = 0; i < both.size(); i += 2) start.push_back(both[i]), end.push_back(both[i + 1]);
  EXPECT_LE(max_diff(qa.at("start_logits").to_float_vector(), start), 1e-5);
  EXPECT_LE(max_diff(qa.at("end_logits").to_float_vector(), end), 1e-5);
}

TEST(DebertaV2Heads, MultipleChoiceAndFillMaskShapes) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // Multiple choice: ContextPooler + classifier to one score per choice, [batch, choices].
  const std::vector<Head> mc = {seeded("pooler.dense.weight", {kHidden, kHidden}, 5),
                                seeded("pooler.dense.bias", {kHidden}, 6), seeded("classifier.weight", {1, kHidden}, 7),
                                seeded("classifier.bias", {1}, 8)};
  const TensorMap in3 = feeds(kIds, kMask, {1, 2, 7});
  auto out = run_task(checkpoint_with_heads(fixtures, "DebertaV2ForMultipleChoice", mc), "multiple-choice", in3);
  EXPECT_EQ(out.at("logits").shape(), (Shape{1, 2}));
  // Fill-mask: transform (dense, gelu, LayerNorm) and the decoder tied to the word embeddings, [batch, seq, vocab].
  const std::vector<Head> mlm = {seeded("cls.predictions.transform.dense.weight", {kHidden, kHidden}, 9),
                                 seeded("cls.predictions.transform.dense.bias", {kHidden}, 10),
                                 seeded("cls.predictions.transform.LayerNorm.weight", {kHidden}, 11),
                                 seeded("cls.predictions.transform.LayerNorm.bias", {kHidden}, 12),
                                 seeded("cls.predictions.bias", {kVocab}, 13)};
  auto lm =
      run_task(checkpoint_with_heads(fixtures, "DebertaV2ForMaskedLM", mlm), "fill-mask", feeds(kIds, kMask, {2, 7}));
  EXPECT_EQ(lm.at("logits").shape(), (Shape{2, 7, kVocab}));
}

// Configurations the exporter cannot build are refused with an error naming the field and value.
TEST(DebertaV2Heads, UnsupportedConfigIsAClearError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path src = fixtures / "models" / "deberta-v3-tiny";
  auto expect_error = [&](const char* key, const Json& value, const std::string& needle) {
    const fs::path dir = ot::make_temp_dir("deberta_config");
    fs::copy_file(src / "model.safetensors", dir / "model.safetensors");
    Json cfg = read_json_file(src / "config.json");
    cfg[key] = value;
    write_text_file(dir / "config.json", cfg.dump(2));
    try {
      exporters::build_model(dir, {});
      ADD_FAILURE() << key << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
  };
  expect_error("pos_att_type", Json::array({"c2p", "p2p"}), "p2p");
  expect_error("conv_kernel_size", 3, "conv_kernel_size");
  expect_error("num_attention_heads", 0, "num_attention_heads");
  expect_error("position_buckets", 1, "position_buckets");
}

}  // namespace
