// The audio classes feed the graph's own input name, as optimum does: whisper-style encoders take input_features,
// wav2vec2-style ones input_values, and attention_mask only when the graph declares it. Checked on small graphs
// written here with the exporter's GraphBuilder (no fixture has a whisper-style graph).
#include <gtest/gtest.h>

#include "export/graph/graph_builder.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/ctc.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;
using ortformers::exporters::attr;
namespace fs = std::filesystem;

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

// logits[b, j] = mean(x[b]) * w[j] for `input` of rank `rank`; with `mask`, also an int64 attention_mask input
// whose sum is added (so a test can tell whether it was fed).
fs::path write_graph(const std::string& input, int rank, bool mask) {
  exporters::GraphBuilder g(17);
  std::vector<exporters::Dim> dims{std::string("batch_size")};
  for (int i = 1; i < rank; ++i) dims.push_back(std::string("d") + std::to_string(i));
  g.add_input(input, kFloat, dims);
  std::vector<std::int64_t> axes;
  for (int i = 1; i < rank; ++i) axes.push_back(i);
  auto m = g.node("/mean", "ReduceMean", {input}, {attr("axes", axes), attr("keepdims", 0)});
  m = g.node("/mean", "Unsqueeze", {m, g.const_i64({1})});
  if (mask) {
    g.add_input("attention_mask", onnx::TensorProto_DataType_INT64, {std::string("batch_size"), std::string("d1")});
    auto s = g.node("/mask", "ReduceSum", {"attention_mask", g.const_i64({1})}, {attr("keepdims", 1)});
    m = g.node("/mask", "Add", {m, g.node("/mask", "Cast", {s}, {attr("to", kFloat)})});
  }
  auto logits = g.node("/logits", "Mul", {m, g.const_f32({1.0f, 2.0f, -1.0f}, {1, 3})});
  g.rename_value(logits, "logits");
  g.add_output("logits", kFloat, {std::string("batch_size"), std::int64_t{3}});
  auto model = g.finish("test");
  const fs::path dir = ortformers::testing::make_temp_dir("audio_inputs");
  exporters::save_model(model, dir / "model.onnx");
  write_text_file(dir / "config.json", R"({"model_type": "test", "id2label": {"0": "a", "1": "b", "2": "c"}})");
  return dir;
}

}  // namespace

TEST(AudioInputNames, WhisperStyleGraphGetsInputFeatures) {
  const auto dir = write_graph("input_features", 3, false);
  const auto model = ORTModelForAudioClassification::from_pretrained(dir.string());
  const Tensor feats = Tensor::from_vector(std::vector<float>(2 * 4 * 5, 0.5f), {2, 4, 5});
  // The single-tensor form, input_values (the wav2vec2 name) and input_features all reach the graph's input.
  for (const auto& out : {model.forward(feats), model.forward(TensorMap{{"input_values", feats}}),
                          model.forward(TensorMap{{"input_features", feats}})}) {
    ASSERT_EQ(out.logits.shape(), (Shape{2, 3}));
    const auto v = out.logits.to_float_vector();
    EXPECT_FLOAT_EQ(v[0], 0.5f);
    EXPECT_FLOAT_EQ(v[1], 1.0f);
    EXPECT_FLOAT_EQ(v[5], -0.5f);
  }
  // An attention_mask the graph does not declare is dropped, as optimum does.
  const Tensor mask = Tensor::from_vector(std::vector<std::int64_t>(2 * 4, 1), {2, 4});
  EXPECT_NO_THROW(model.forward(TensorMap{{"input_features", feats}, {"attention_mask", mask}}));
  fs::remove_all(dir);
}

TEST(AudioInputNames, Wav2Vec2StyleGraphWithMask) {
  const auto dir = write_graph("input_values", 2, true);
  const auto ctc = ORTModelForCTC::from_pretrained(dir.string());
  const auto frames = ORTModelForAudioFrameClassification::from_pretrained(dir.string());
  const Tensor wave = Tensor::from_vector(std::vector<float>(2 * 6, 1.0f), {2, 6});
  const Tensor mask = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, {2, 6});
  // input_features is renamed to the graph's input_values; the declared mask is fed (its sum shows up).
  const auto out = ctc.forward(TensorMap{{"input_features", wave}, {"attention_mask", mask}});
  const auto v = out.logits.to_float_vector();
  EXPECT_FLOAT_EQ(v[0], 1.0f + 4.0f);
  EXPECT_FLOAT_EQ(v[3], 1.0f + 6.0f);
  // Without the mask the graph's required input is missing: a clear error naming it.
  try {
    frames.forward(wave);
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("attention_mask"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}
