// Native export of ViT and Wav2Vec2 / HuBERT: parity with the recorded PyTorch outputs (1e-4) and with optimum's
// exports (input / output names, element types, dims), plain and --optimize, for every vision / audio fixture of
// these architectures; padded batches equal the recorded batch outputs and one-at-a-time runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_frame_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/ctc.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/models/ort_model.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/feature_extractor.hpp"
#include "support/derived_checkpoint.hpp"
#include "support/fixtures.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using ortformers::testing::OrtRunner;
namespace media = ortformers::testing::media;
using media::row;
using media::stack;

namespace {

struct Case {
  std::string name;
  bool vision;
};

std::vector<Case> cases() {
  return {{"vit-tiny", true},
          {"vit-tiny-cls", true},
          {"wav2vec2-tiny-ctc", false},
          {"wav2vec2-tiny-audiocls", false},
          {"wav2vec2-tiny-frames", false},
          {"wav2vec2-tiny-xvector", false}};
}

// The model input of a preprocessing entry: recorded pixel_values / input_values, or for the sampled long clip the
// library's own feature extraction (within 1e-4 of the recorded samples).
Tensor model_input(const fs::path& fixtures, const std::string& name, const Json& p, bool vision) {
  if (vision) return media::tensor_from_ref(fixtures, p.at("pixel_values"));
  const Json& r = media::resolve(fixtures, p.at("input_values"));
  if (!r.value("sampled", false)) return media::tensor_from_ref(fixtures, p.at("input_values"));
  const auto fe = preprocessing::Wav2Vec2FeatureExtractor::from_pretrained(fixtures / "models" / name);
  auto out = fe(preprocessing::load_audio_mono(fixtures / p.at("audio").get<std::string>(), fe.sampling_rate()));
  EXPECT_LE(media::max_diff(out.at("input_values"), r), 1e-4);
  return out.at("input_values");
}

Json dims_json(const onnx::ValueInfoProto& v) {
  Json out = Json::array();
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    if (d.has_dim_param())
      out.push_back(d.dim_param());
    else
      out.push_back(d.dim_value());
  }
  return out;
}

// Names, element types and dims of the graph inputs / outputs equal optimum's export.
void expect_io_like_optimum(const onnx::ModelProto& m, const Json& onnx_ref, const std::string& what) {
  auto check = [&](const auto& values, const Json& ref, const char* kind) {
    ASSERT_EQ(static_cast<std::size_t>(values.size()), ref.size()) << what << " " << kind;
    for (int i = 0; i < values.size(); ++i) {
      const auto& v = values.Get(i);
      const Json& r = ref.at(static_cast<std::size_t>(i));
      EXPECT_EQ(v.name(), r.at("name").get<std::string>()) << what << " " << kind;
      EXPECT_EQ(v.type().tensor_type().elem_type(), r.at("elem_type").get<int>()) << what << " " << v.name();
      EXPECT_EQ(dims_json(v).dump(), r.at("shape").dump()) << what << " " << v.name();
    }
  };
  check(m.graph().input(), onnx_ref.at("inputs"), "inputs");
  check(m.graph().output(), onnx_ref.at("outputs"), "outputs");
}

struct Diffs {
  double single = 0, batch = 0, rows = 0;
};

// Exports `name` (plain or optimised) and compares with the reference; returns the max differences.
Diffs check_case(const fs::path& fixtures, const Case& c, bool optimize) {
  const std::string what = c.name + (optimize ? " (optimized)" : " (plain)");
  const Json& ref = media::reference(fixtures, c.name);
  ExportOptions opts;
  opts.optimize = optimize;
  auto built = build_model(fixtures / "models" / c.name, opts);
  EXPECT_EQ(built.task, ref.at("onnx").at(c.name).at("task").get<std::string>()) << what;
  expect_io_like_optimum(built.model, ref.at("onnx").at(c.name), what);
  int contrib_attention = 0;
  for (const auto& n : built.model.graph().node())
    contrib_attention += n.op_type() == "Attention" && n.domain() == "com.microsoft";
  EXPECT_EQ(contrib_attention > 0, optimize) << what << ": contrib Attention nodes " << contrib_attention;
  OrtRunner ort(built.model);
  const std::string in = c.vision ? "pixel_values" : "input_values";
  EXPECT_EQ(ort.inputs, std::vector<std::string>{in});

  Diffs d;
  int compared = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor x = model_input(fixtures, c.name, p, c.vision);
    const auto out = ort.run(TensorMap{{in, x}});
    for (const auto& o : ort.outputs) {
      EXPECT_TRUE(mo.at("outputs").contains(o)) << what << " output " << o << " not recorded";
      if (!mo.at("outputs").contains(o)) continue;
      const Json& r = media::resolve(fixtures, mo.at("outputs").at(o));
      EXPECT_EQ(shape_to_string(out.at(o).shape()), shape_to_string(media::shape_of(r))) << what << " " << o;
      const double m = media::max_diff(out.at(o), r);
      EXPECT_LE(m, 1e-4) << what << " " << o << " input " << mo.at("preprocessing_index");
      d.single = std::max(d.single, std::isnan(m) ? INFINITY : m);
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);

  // The batch: recorded batch outputs, and each row run alone.
  const Json& b = ref.at("batch");
  Tensor xb;
  if (c.vision) {
    std::vector<Tensor> xs;
    for (const auto& i : b.at("preprocessing_indices"))
      xs.push_back(
          media::tensor_from_ref(fixtures, ref.at("preprocessing").at(i.get<std::size_t>()).at("pixel_values")));
    xb = stack(xs);
  } else {
    xb = media::tensor_from_ref(fixtures, b.at("inputs").at("input_values"));
  }
  const auto out = ort.run(TensorMap{{in, xb}});
  for (const auto& o : ort.outputs) {
    const double m = media::max_diff(out.at(o), media::resolve(fixtures, b.at("outputs").at(o)));
    EXPECT_LE(m, 1e-4) << what << " batch " << o;
    d.batch = std::max(d.batch, std::isnan(m) ? INFINITY : m);
  }
  for (std::int64_t i = 0; i < xb.dim(0); ++i) {
    const auto single = ort.run(TensorMap{{in, row(xb, i)}});
    for (const auto& o : ort.outputs) {
      const double m = ortformers::testing::max_diff(row(out.at(o), i), single.at(o));
      EXPECT_LE(m, 1e-5) << what << " batch row " << i << " " << o << " vs one at a time";
      d.rows = std::max(d.rows, m);
    }
  }
  return d;
}

class VitWav2Vec2Parity : public ::testing::TestWithParam<Case> {};

TEST_P(VitWav2Vec2Parity, PlainAndOptimizedMatchPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (bool optimize : {false, true}) {
    const auto d = check_case(fixtures, GetParam(), optimize);
    std::printf("[ parity ] %-24s %-9s max|diff| single %.3g  batch %.3g  batch-vs-rows %.3g\n",
                GetParam().name.c_str(), optimize ? "optimized" : "plain", d.single, d.batch, d.rows);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VitWav2Vec2Parity, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.name;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// optimum's from_pretrained(checkpoint, export=True): the native export into the cache, then the ORTModel class.
class ExportCache : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = ortformers::testing::make_temp_dir("vit-w2v-export-cache");
    ::setenv("ORTFORMERS_CACHE", cache_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("ORTFORMERS_CACHE");
    fs::remove_all(cache_);
  }
  fs::path cache_;
};

template <class Model, class Get>
void check_from_pretrained(const fs::path& fixtures, const std::string& name, const std::string& output, Get get,
                           const fs::path& cache) {
  models::ModelOptions o;
  o.export_model = true;
  const auto model = Model::from_pretrained((fixtures / "models" / name).string(), o);
  EXPECT_NE(model.model_dir().string().find(cache.string()), std::string::npos) << model.model_dir();
  const Json& ref = media::reference(fixtures, name);
  const Json& mo = ref.at("model_outputs").at(0);
  const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
  const bool vision = p.contains("pixel_values");
  const Tensor x = model_input(fixtures, name, p, vision);
  const auto res = model.forward(TensorMap{{vision ? "pixel_values" : "input_values", x}});
  EXPECT_LE(media::max_diff(get(res), media::resolve(fixtures, mo.at("outputs").at(output))), 1e-4) << name;
}

TEST_F(ExportCache, ImageClassificationFromCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForImageClassification>(
      fixtures, "vit-tiny-cls", "logits", [](const auto& o) { return o.logits; }, cache_);
}

TEST_F(ExportCache, FeatureExtractionFromViTCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForFeatureExtraction>(
      fixtures, "vit-tiny", "last_hidden_state", [](const auto& o) { return o.last_hidden_state; }, cache_);
}

TEST_F(ExportCache, CTCFromCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForCTC>(
      fixtures, "wav2vec2-tiny-ctc", "logits", [](const auto& o) { return o.logits; }, cache_);
}

TEST_F(ExportCache, AudioClassificationFromCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForAudioClassification>(
      fixtures, "wav2vec2-tiny-audiocls", "logits", [](const auto& o) { return o.logits; }, cache_);
}

TEST_F(ExportCache, AudioFrameClassificationFromCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForAudioFrameClassification>(
      fixtures, "wav2vec2-tiny-frames", "logits", [](const auto& o) { return o.logits; }, cache_);
}

TEST_F(ExportCache, AudioXVectorFromCheckpoint) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_from_pretrained<models::ORTModelForAudioXVector>(
      fixtures, "wav2vec2-tiny-xvector", "embeddings", [](const auto& o) { return o.embeddings; }, cache_);
}

// ------------------------------------------------------------------------------------------------------------------
// Checkpoints derived from wav2vec2-tiny-ctc in a temp folder: HuBERT, config variants, bad configs.

using ortformers::testing::derive;
using ortformers::testing::drop_if;
using ortformers::testing::rename_prefix;

TensorMap run_export(const fs::path& dir, bool optimize, const TensorMap& feeds, BuiltModel* keep = nullptr) {
  ExportOptions opts;
  opts.optimize = optimize;
  auto built = build_model(dir, opts);
  OrtRunner ort(built.model);
  auto out = ort.run(feeds);
  if (keep != nullptr) *keep = std::move(built);
  return out;
}

// The first recorded CTC input and its PyTorch logits.
std::pair<Tensor, const Json*> ctc_input(const fs::path& fixtures) {
  const Json& ref = media::reference(fixtures, "wav2vec2-tiny-ctc");
  const Json& mo = ref.at("model_outputs").at(0);
  const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
  return {model_input(fixtures, "wav2vec2-tiny-ctc", p, false),
          &media::resolve(fixtures, mo.at("outputs").at("logits"))};
}

// HuBERT shares Wav2Vec2's encoder: the CTC checkpoint renamed wav2vec2. -> hubert. (positional conv weight norm in
// the torch.nn.utils.parametrizations naming) with feat_proj_layer_norm true gives the same logits.
TEST(HubertExport, ConvertedWav2Vec2CheckpointGivesTheSameLogits) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto hub = derive(
      fixtures, "wav2vec2-tiny-ctc",
      [](Json& c) {
        c["model_type"] = "hubert";
        c["architectures"] = Json::array({"HubertForCTC"});
        c["feat_proj_layer_norm"] = true;
      },
      [](auto& ts) {
        rename_prefix(ts, "wav2vec2.", "hubert.");
        drop_if(ts, [](const std::string& n) { return n.rfind("quantizer.", 0) == 0 || n.rfind("project_", 0) == 0; });
        for (auto& [n, t] : ts) {
          if (n == "hubert.encoder.pos_conv_embed.conv.weight_g")
            n = "hubert.encoder.pos_conv_embed.conv.parametrizations.weight.original0";
          if (n == "hubert.encoder.pos_conv_embed.conv.weight_v")
            n = "hubert.encoder.pos_conv_embed.conv.parametrizations.weight.original1";
        }
      });
  EXPECT_EQ(infer_task(hub->dir), "automatic-speech-recognition");
  const auto [x, ref_logits] = ctc_input(fixtures);
  const TensorMap feeds{{"input_values", x}};
  for (bool optimize : {false, true}) {
    BuiltModel built;
    const auto h = run_export(hub->dir, optimize, feeds, &built);
    EXPECT_EQ(built.model_type, "hubert");
    EXPECT_EQ(built.input_names, std::vector<std::string>{"input_values"});
    EXPECT_EQ(built.output_names, std::vector<std::string>{"logits"});
    const auto w = run_export(fixtures / "models" / "wav2vec2-tiny-ctc", optimize, feeds);
    const double d = ortformers::testing::max_diff(h.at("logits"), w.at("logits"));
    EXPECT_LE(d, 1e-6) << (optimize ? "optimized" : "plain");
    const double r = media::max_diff(h.at("logits"), *ref_logits);
    EXPECT_LE(r, 1e-4);
    std::printf("[ hubert ] %-9s max|hubert - wav2vec2| %.3g  max|hubert - PyTorch wav2vec2| %.3g\n",
                optimize ? "optimized" : "plain", d, r);
  }
  // Tasks HuBERT has no head for are refused.
  ExportOptions xv;
  xv.task = "audio-xvector";
  EXPECT_THROW(build_model(hub->dir, xv), UnsupportedError);
}

// HuBERT with feat_proj_layer_norm false has no feature-projection LayerNorm: a checkpoint without it exports.
TEST(HubertExport, FeatureProjectionWithoutLayerNorm) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto hub = derive(
      fixtures, "wav2vec2-tiny-ctc",
      [](Json& c) {
        c["model_type"] = "hubert";
        c["architectures"] = Json::array({"HubertForCTC"});
        c["feat_proj_layer_norm"] = false;
      },
      [](auto& ts) {
        rename_prefix(ts, "wav2vec2.", "hubert.");
        drop_if(ts, [](const std::string& n) { return n.find("feature_projection.layer_norm") != std::string::npos; });
      });
  const auto [x, ref_logits] = ctc_input(fixtures);
  BuiltModel built;
  const auto h = run_export(hub->dir, false, {{"input_values", x}}, &built);
  int layer_norms = 0;
  for (const auto& n : built.model.graph().node())
    layer_norms += n.name().find("/feature_projection/layer_norm") != std::string::npos;
  EXPECT_EQ(layer_norms, 0);
  EXPECT_EQ(h.at("logits").shape(), media::shape_of(*ref_logits));
}

// use_weighted_layer_sum with weights whose softmax is one-hot on the last hidden state equals the plain head.
TEST(Wav2Vec2Export, WeightedLayerSumOnTheLastLayerEqualsTheHead) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "wav2vec2-tiny-frames", [](Json& c) { c["use_weighted_layer_sum"] = true; },
      [](auto& ts) {
        // num_hidden_layers (2) + 1 hidden states: embedding output, layer 0, layer 1.
        ts.emplace_back("layer_weights", Tensor::from_vector(std::vector<float>{-1e4f, -1e4f, 0.0f}, {3}));
      });
  const Json& ref = media::reference(fixtures, "wav2vec2-tiny-frames");
  const Json& mo = ref.at("model_outputs").at(0);
  const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
  const Tensor x = model_input(fixtures, "wav2vec2-tiny-frames", p, false);
  for (bool optimize : {false, true}) {
    const auto out = run_export(dir->dir, optimize, {{"input_values", x}});
    EXPECT_LE(media::max_diff(out.at("logits"), media::resolve(fixtures, mo.at("outputs").at("logits"))), 1e-4);
  }
  // Equal weights: a different result (the sum is really taken), same shape.
  auto even = derive(
      fixtures, "wav2vec2-tiny-frames", [](Json& c) { c["use_weighted_layer_sum"] = true; },
      [](auto& ts) {
        ts.emplace_back("layer_weights", Tensor::from_vector(std::vector<float>{1, 1, 1}, {3}));
      });
  const auto a = run_export(even->dir, false, {{"input_values", x}});
  const auto b = run_export(even->dir, true, {{"input_values", x}});
  EXPECT_LE(ortformers::testing::max_diff(a.at("logits"), b.at("logits")), 1e-4);
  EXPECT_GT(media::max_diff(a.at("logits"), media::resolve(fixtures, mo.at("outputs").at("logits"))), 1e-3);
}

// do_stable_layer_norm true (pre-LN layers + final LayerNorm) with feat_extract_norm "layer" and conv_bias: no
// PyTorch reference exists for this variant, so the checks are plain == optimized, batch rows == single runs, and
// the shapes.
TEST(Wav2Vec2Export, StableLayerNormAndLayerNormFeatureEncoderExport) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "wav2vec2-tiny-ctc",
      [](Json& c) {
        c["do_stable_layer_norm"] = true;
        c["feat_extract_norm"] = "layer";
        c["conv_bias"] = true;
      },
      [](auto& ts) {
        for (int i = 0; i < 7; ++i) {
          const std::string p = "wav2vec2.feature_extractor.conv_layers." + std::to_string(i);
          std::vector<float> gamma(32), beta(32), bias(32);
          for (int j = 0; j < 32; ++j) {
            gamma[j] = 1.0f + 0.01f * static_cast<float>((j * 7 + i) % 5);
            beta[j] = 0.02f * static_cast<float>((j + i) % 3) - 0.02f;
            bias[j] = 0.01f * static_cast<float>((j * 3 + i) % 7) - 0.03f;
          }
          drop_if(ts, [&](const std::string& n) { return n.rfind(p + ".layer_norm", 0) == 0; });
          ts.emplace_back(p + ".layer_norm.weight", Tensor::from_vector(gamma, {32}));
          ts.emplace_back(p + ".layer_norm.bias", Tensor::from_vector(beta, {32}));
          ts.emplace_back(p + ".conv.bias", Tensor::from_vector(bias, {32}));
        }
      });
  const Json& ref = media::reference(fixtures, "wav2vec2-tiny-ctc");
  const Tensor xb = media::tensor_from_ref(fixtures, ref.at("batch").at("inputs").at("input_values"));
  BuiltModel built;
  const auto plain = run_export(dir->dir, false, {{"input_values", xb}}, &built);
  int instance_norms = 0;
  for (const auto& n : built.model.graph().node()) instance_norms += n.op_type() == "InstanceNormalization";
  EXPECT_EQ(instance_norms, 0);
  const auto opt = run_export(dir->dir, true, {{"input_values", xb}});
  const auto& ref_batch = media::resolve(fixtures, ref.at("batch").at("outputs").at("logits"));
  EXPECT_EQ(plain.at("logits").shape(), media::shape_of(ref_batch));
  EXPECT_LE(ortformers::testing::max_diff(plain.at("logits"), opt.at("logits")), 1e-4);
  EXPECT_GT(media::max_diff(plain.at("logits"), ref_batch), 1e-3);  // really another model
  for (std::int64_t i = 0; i < xb.dim(0); ++i) {
    const auto one = run_export(dir->dir, false, {{"input_values", row(xb, i)}});
    EXPECT_LE(ortformers::testing::max_diff(row(plain.at("logits"), i), one.at("logits")), 1e-5) << "row " << i;
  }
}

std::string unsupported_message(const fs::path& dir) {
  try {
    build_model(dir, ExportOptions{});
  } catch (const UnsupportedError& e) {
    return e.what();
  }
  return "(no UnsupportedError)";
}

TEST(Wav2Vec2Export, UnknownFeatExtractNormIsUnsupported) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "wav2vec2-tiny-ctc", [](Json& c) { c["feat_extract_norm"] = "batch"; }, [](auto&) {});
  const auto msg = unsupported_message(dir->dir);
  EXPECT_NE(msg.find("feat_extract_norm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'batch'"), std::string::npos) << msg;
}

TEST(Wav2Vec2Export, AdapterIsUnsupported) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "wav2vec2-tiny-ctc", [](Json& c) { c["add_adapter"] = true; }, [](auto&) {});
  const auto msg = unsupported_message(dir->dir);
  EXPECT_NE(msg.find("add_adapter"), std::string::npos) << msg;
}

TEST(Wav2Vec2Export, MissingTensorIsNamed) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "wav2vec2-tiny-ctc", [](Json&) {},
      [](auto& ts) {
        drop_if(ts, [](const std::string& n) { return n.find("pos_conv_embed.conv.weight_v") != std::string::npos; });
      });
  try {
    build_model(dir->dir, ExportOptions{});
    ADD_FAILURE() << "no error";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("pos_conv_embed.conv.weight_v"), std::string::npos) << e.what();
  }
}

TEST(ViTExport, UnknownActivationIsUnsupported) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "vit-tiny-cls", [](Json& c) { c["hidden_act"] = "mish"; }, [](auto&) {});
  const auto msg = unsupported_message(dir->dir);
  EXPECT_NE(msg.find("mish"), std::string::npos) << msg;
}

// ViT with qkv_bias false: the projections have no bias (the packed contrib Attention bias is zero).
TEST(ViTExport, NoQkvBiasPlainEqualsOptimized) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto dir = derive(
      fixtures, "vit-tiny-cls", [](Json& c) { c["qkv_bias"] = false; },
      [](auto& ts) {
        drop_if(ts, [](const std::string& n) {
          return n.find("attention.attention.") != std::string::npos && n.ends_with(".bias");
        });
      });
  const Json& ref = media::reference(fixtures, "vit-tiny-cls");
  const Tensor x = media::tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));
  const auto a = run_export(dir->dir, false, {{"pixel_values", x}});
  const auto b = run_export(dir->dir, true, {{"pixel_values", x}});
  EXPECT_LE(ortformers::testing::max_diff(a.at("logits"), b.at("logits")), 1e-5);
}

}  // namespace

namespace {

// Opset 14 (LayerNorm decomposed into primitive ops) gives the same outputs as the reference.
TEST(VitWav2Vec2ExportOpset, Opset14MatchesPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const auto& c : cases()) {
    const Json& ref = media::reference(fixtures, c.name);
    const Json& mo = ref.at("model_outputs").at(0);
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor x = model_input(fixtures, c.name, p, c.vision);
    for (bool optimize : {false, true}) {
      ExportOptions opts;
      opts.opset = 14;
      opts.optimize = optimize;
      auto built = build_model(fixtures / "models" / c.name, opts);
      OrtRunner ort(built.model);
      const auto out = ort.run(TensorMap{{c.vision ? "pixel_values" : "input_values", x}});
      for (const auto& o : ort.outputs)
        EXPECT_LE(media::max_diff(out.at(o), media::resolve(fixtures, mo.at("outputs").at(o))), 1e-4)
            << c.name << " " << o << (optimize ? " optimized" : " plain");
    }
  }
}

}  // namespace
