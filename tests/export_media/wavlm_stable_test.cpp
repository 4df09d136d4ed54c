// WavLM with do_stable_layer_norm true (issue 23 item 6: microsoft/wavlm-large and the x-vector models built on it),
// on a checkpoint the test derives from fixtures/models/wavlm-tiny-frames. No PyTorch reference exists for this
// variant, so it is pinned three ways:
// - without its relative position bias (rel_attn_embed zero) WavLM's stable encoder is Wav2Vec2's: the same weights
//   exported as Wav2Vec2 (do_stable_layer_norm, pre-LN layers + final encoder LayerNorm) give the same logits;
// - the per-layer gate is computed from the attention's input layer_norm(x), as WavLMEncoderLayerStableLayerNorm
//   passes it to WavLMAttention (checked on the graph: the gate's input comes from the layer's attention LayerNorm);
// - plain == --optimize, batch rows == one-at-a-time runs, and it is really another model than the post-LN one.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/core/error.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/fixtures.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using ortformers::testing::derive;
using ortformers::testing::drop_if;
using ortformers::testing::NamedTensors;
using ortformers::testing::OrtRunner;
using ortformers::testing::rename_prefix;
namespace media = ortformers::testing::media;

namespace {

TensorMap run_export(const fs::path& dir, bool optimize, const TensorMap& feeds, BuiltModel* keep = nullptr) {
  ExportOptions opts;
  opts.optimize = optimize;
  auto built = build_model(dir, opts);
  OrtRunner ort(built.model);
  auto out = ort.run(feeds);
  if (keep != nullptr) *keep = std::move(built);
  return out;
}

void make_stable(Json& c) {
  c["do_stable_layer_norm"] = true;
}

// rel_attn_embed of the first layer set to zero: no relative position bias.
void zero_bias(NamedTensors& ts) {
  for (auto& [n, t] : ts) {
    if (n.find("rel_attn_embed") == std::string::npos) continue;
    t = Tensor::from_vector(std::vector<float>(static_cast<std::size_t>(t.numel()), 0.0f), t.shape());
  }
}

Tensor batch_input(const fs::path& fixtures) {
  const Json& ref = media::reference(fixtures, "wavlm-tiny-frames");
  return media::tensor_from_ref(fixtures, ref.at("batch").at("inputs").at("input_values"));
}

TEST(WavLMStableLayerNorm, WithoutTheRelativeBiasItIsWav2Vec2sStableEncoder) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Tensor x = batch_input(fixtures);
  auto wavlm = derive(fixtures, "wavlm-tiny-frames", make_stable, zero_bias);
  auto w2v = derive(
      fixtures, "wavlm-tiny-frames",
      [](Json& c) {
        make_stable(c);
        c["model_type"] = "wav2vec2";
        c["architectures"] = Json::array({"Wav2Vec2ForAudioFrameClassification"});
      },
      [](NamedTensors& ts) {
        drop_if(ts, [](const std::string& n) {
          return n.find("gru_rel_pos") != std::string::npos || n.find("rel_attn_embed") != std::string::npos;
        });
        rename_prefix(ts, "wavlm.", "wav2vec2.");
      });
  for (bool optimize : {false, true}) {
    const auto a = run_export(wavlm->dir, optimize, {{"input_values", x}});
    const auto b = run_export(w2v->dir, optimize, {{"input_values", x}});
    ASSERT_EQ(a.at("logits").shape(), b.at("logits").shape());
    EXPECT_LE(ortformers::testing::max_diff(a.at("logits"), b.at("logits")), 1e-5) << "optimize " << optimize;
  }
  // With its bias (the checkpoint's rel_attn_embed) the result differs: the bias is really applied.
  auto biased = derive(fixtures, "wavlm-tiny-frames", make_stable, [](NamedTensors&) {});
  const auto with_bias = run_export(biased->dir, false, {{"input_values", x}});
  const auto without = run_export(wavlm->dir, false, {{"input_values", x}});
  EXPECT_GT(ortformers::testing::max_diff(with_bias.at("logits"), without.at("logits")), 1e-4);
}

TEST(WavLMStableLayerNorm, TheGateIsComputedFromTheAttentionLayerNorm) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(fixtures, "wavlm-tiny-frames", make_stable, [](NamedTensors&) {});
  const BuiltModel built = build_model(dir->dir, ExportOptions{});
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : built.model.graph().node())
    for (const auto& o : n.output()) producer[o] = &n;
  int gates = 0;
  for (const auto& n : built.model.graph().node()) {
    // The gate's first node: Reshape of the attention input to [B, T, heads, head_dim].
    const std::string name = n.name();
    const auto at = name.find("/attention/gru_rel_pos/");
    if (at == std::string::npos || n.op_type() != "Reshape") continue;
    const auto* from = producer.count(n.input(0)) ? producer.at(n.input(0)) : nullptr;
    if (from == nullptr) continue;  // a reshaped constant (the gate's weights), not the gate's input
    if (from->name().find("/gru_rel_pos/") != std::string::npos) continue;  // inside the gate
    ++gates;
    const std::string layer = name.substr(0, at);  // "/encoder/layers.N"
    while (from != nullptr && from->op_type() == "Reshape")
      from = producer.count(from->input(0)) ? producer.at(from->input(0)) : nullptr;
    ASSERT_NE(from, nullptr) << name;
    EXPECT_EQ(from->op_type(), "LayerNormalization") << name << " <- " << from->name();
    EXPECT_EQ(from->name().rfind(layer + "/attention_layer_norm", 0), 0u) << name << " <- " << from->name();
  }
  EXPECT_EQ(gates, 2);  // one per layer
}

TEST(WavLMStableLayerNorm, OptimizedAndBatchedAgreeAndItIsAnotherModel) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = media::reference(fixtures, "wavlm-tiny-frames");
  const Tensor x = batch_input(fixtures);
  auto dir = derive(fixtures, "wavlm-tiny-frames", make_stable, [](NamedTensors&) {});
  const auto plain = run_export(dir->dir, false, {{"input_values", x}});
  const auto opt = run_export(dir->dir, true, {{"input_values", x}});
  // The graph takes input_values only: the post-LN reference of the same input without the mask.
  const Json& post_ln = media::resolve(fixtures, ref.at("batch").at("outputs_input_values_only").at("logits"));
  EXPECT_EQ(plain.at("logits").shape(), media::shape_of(post_ln));
  EXPECT_LE(ortformers::testing::max_diff(plain.at("logits"), opt.at("logits")), 1e-4);
  EXPECT_GT(media::max_diff(plain.at("logits"), post_ln), 1e-3);  // pre-LN: really another model
  for (std::int64_t i = 0; i < x.dim(0); ++i) {
    const auto one = run_export(dir->dir, false, {{"input_values", media::row(x, i)}});
    EXPECT_LE(ortformers::testing::max_diff(media::row(plain.at("logits"), i), one.at("logits")), 1e-5) << "row " << i;
  }
  // The unchanged post-LN checkpoint still matches its PyTorch reference (the stable path is a separate branch).
  const auto base = run_export(fixtures / "models" / "wavlm-tiny-frames", false, {{"input_values", x}});
  EXPECT_LE(media::max_diff(base.at("logits"), post_ln), 1e-4);
}

}  // namespace
