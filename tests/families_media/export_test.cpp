// Native export of ConvNeXt, DeiT (distilled), WavLM and AST: every recorded PyTorch output (1e-4), plain and
// --optimize, graph inputs / outputs as optimum's exports, padded batches equal one-at-a-time runs; --quantize int8
// builds and stays close to fp32; export=true through the ORTModel classes.
#include <gtest/gtest.h>

#include <cstdio>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/models/audio_classification.hpp"
#include "ortformers/models/audio_xvector.hpp"
#include "ortformers/models/image_classification.hpp"
#include "ortformers/preprocessing/audio_feature_extractor.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using namespace ortformers::testing::media;
using ortformers::testing::OrtRunner;

namespace {

struct Case {
  std::string name;
  bool vision;
};

std::string test_name(const ::testing::TestParamInfo<Case>& i) {
  std::string n = i.param.name;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

// Recorded model inputs of a fixture, one per model_outputs entry, and the padded batch.
struct Inputs {
  std::string name;  // pixel_values / input_values
  std::vector<Tensor> singles;
  std::vector<const Json*> expected;  // model_outputs[i].outputs
  Tensor batch;
  const Json* batch_expected = nullptr;
};

Inputs inputs_of(const fs::path& fixtures, const Case& c) {
  const Json& ref = reference(fixtures, c.name);
  Inputs in;
  in.name = c.vision ? "pixel_values" : "input_values";
  std::optional<preprocessing::AudioFeatureExtractor> fe;
  if (!c.vision) fe = preprocessing::AudioFeatureExtractor::from_pretrained(fixtures / "models" / c.name);
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    in.singles.push_back(c.vision ? tensor_from_ref(fixtures, p.at("pixel_values"))
                                  : (*fe)(clip(fixtures, p.at("audio").get<std::string>())).at("input_values"));
    in.expected.push_back(&mo.at("outputs"));
  }
  const Json& b = ref.at("batch");
  if (c.vision) {
    std::vector<Tensor> rows;
    for (const auto& i : b.at("preprocessing_indices"))
      rows.push_back(tensor_from_ref(fixtures, ref.at("preprocessing").at(i.get<std::size_t>()).at("pixel_values")));
    in.batch = stack(rows);
  } else {
    in.batch = (*fe)(batch_clips(fixtures, ref)).at("input_values");
  }
  // WavLM: the recorded batch with the mask is not what a graph without a mask input computes.
  in.batch_expected = b.contains("outputs_input_values_only") ? &b.at("outputs_input_values_only") : &b.at("outputs");
  return in;
}

// The graph's inputs / outputs as {name, elem_type, shape} JSON, the form of the fixture's `onnx` entries.
Json io_json(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values) {
  Json out = Json::array();
  for (const auto& v : values) {
    Json shape = Json::array();
    for (const auto& d : v.type().tensor_type().shape().dim())
      shape.push_back(d.has_dim_param() ? Json(d.dim_param()) : Json(d.dim_value()));
    out.push_back({{"name", v.name()}, {"elem_type", v.type().tensor_type().elem_type()}, {"shape", shape}});
  }
  return out;
}

Json strip_io(const Json& ref_io) {
  Json out = Json::array();
  for (const auto& v : ref_io)
    out.push_back({{"name", v.at("name")}, {"elem_type", v.at("elem_type")}, {"shape", v.at("shape")}});
  return out;
}

class FamilyExport : public ::testing::TestWithParam<Case> {};

TEST_P(FamilyExport, PlainAndOptimizedMatchPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const Json& ref = reference(fixtures, c.name);
  const Inputs in = inputs_of(fixtures, c);
  for (bool optimize : {false, true}) {
    const std::string what = c.name + (optimize ? " (optimized)" : " (plain)");
    ExportOptions opts;
    opts.optimize = optimize;
    const auto built = build_model(fixtures / "models" / c.name, opts);
    const Json& onnx_ref = ref.at("onnx").at(c.name);
    EXPECT_EQ(built.task, onnx_ref.at("task").get<std::string>()) << what;
    EXPECT_EQ(io_json(built.model.graph().input()).dump(), strip_io(onnx_ref.at("inputs")).dump()) << what;
    EXPECT_EQ(io_json(built.model.graph().output()).dump(), strip_io(onnx_ref.at("outputs")).dump()) << what;
    int attention = 0;
    for (const auto& n : built.model.graph().node())
      attention += n.op_type() == "Attention" && n.domain() == "com.microsoft";
    EXPECT_EQ(attention > 0, optimize && c.name != "convnext-tiny-cls") << what;
    OrtRunner ort(built.model);
    double single = 0, batch = 0, rows = 0;
    for (std::size_t i = 0; i < in.singles.size(); ++i) {
      const auto out = ort.run(TensorMap{{in.name, in.singles[i]}});
      for (const auto& o : ort.outputs) {
        const Json& r = resolve(fixtures, in.expected[i]->at(o));
        ASSERT_EQ(out.at(o).shape(), shape_of(r)) << what << " " << o;
        single = std::max(single, max_diff(out.at(o), r));
      }
    }
    const auto out = ort.run(TensorMap{{in.name, in.batch}});
    for (const auto& o : ort.outputs) {
      batch = std::max(batch, max_diff(out.at(o), resolve(fixtures, in.batch_expected->at(o))));
      for (std::int64_t b = 0; b < in.batch.dim(0); ++b)
        rows = std::max(rows, max_abs(row(out.at(o), b), ort.run(TensorMap{{in.name, row(in.batch, b)}}).at(o)));
    }
    std::printf("[ parity ] %-24s %-9s max|diff| single %.3g  batch %.3g  batch-vs-rows %.3g\n", c.name.c_str(),
                optimize ? "optimized" : "plain", single, batch, rows);
    EXPECT_LE(single, 1e-4) << what;
    EXPECT_LE(batch, 1e-4) << what;
    EXPECT_LE(rows, 1e-5) << what;
  }
}

// int8: dynamic quantisation of the MatMul weights; a tiny random model gives a rough copy of the fp32 outputs.
TEST_P(FamilyExport, Int8IsCloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Case& c = GetParam();
  const Inputs in = inputs_of(fixtures, c);
  ExportOptions q;
  q.quantize = "int8";
  const auto built = build_model(fixtures / "models" / c.name, q);
  int quantized = 0;
  for (const auto& n : built.model.graph().node())
    quantized +=
        n.op_type().find("Quant") != std::string::npos || n.op_type() == "QAttention" || n.op_type() == "MatMulInteger";
  EXPECT_GT(quantized, 0) << c.name;
  OrtRunner ort(built.model);
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < in.singles.size(); ++i) {
    const auto out = ort.run(TensorMap{{in.name, in.singles[i]}});
    const std::string o = ort.outputs.front();
    const Json& r = resolve(fixtures, in.expected[i]->at(o));
    worst = std::max(worst, max_diff(out.at(o), r));
    for (const auto& v : r.at("data")) scale = std::max(scale, std::fabs(v.get<double>()));
  }
  std::printf("[ int8   ] %-24s max|diff| %.3g (max |value| %.3g)\n", c.name.c_str(), worst, scale);
  EXPECT_LE(worst, 0.1 * scale + 1e-3) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FamilyExport,
                         ::testing::Values(Case{"convnext-tiny-cls", true}, Case{"deit-tiny-distilled-cls", true},
                                           Case{"wavlm-tiny-xvector", false}, Case{"wavlm-tiny-frames", false},
                                           Case{"ast-tiny-audiocls", false}),
                         test_name);

// from_pretrained(checkpoint, export=true): the native export into the cache, then the ORTModel class and the
// pipeline preprocessing on top.
class FamilyExportCache : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = ortformers::testing::make_temp_dir("families-media-export-cache");
    ::setenv("ORTFORMERS_CACHE", cache_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("ORTFORMERS_CACHE");
    fs::remove_all(cache_);
  }
  fs::path cache_;
};

TEST_F(FamilyExportCache, ModelsFromCheckpoints) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  models::ModelOptions o;
  o.export_model = true;
  for (const std::string name : {"convnext-tiny-cls", "deit-tiny-distilled-cls"}) {
    const auto model =
        models::ORTModelForImageClassification::from_pretrained((fixtures / "models" / name).string(), o);
    const Inputs in = inputs_of(fixtures, {name, true});
    EXPECT_LE(max_diff(model.forward(in.singles[0]).logits, resolve(fixtures, in.expected[0]->at("logits"))), 1e-4)
        << name;
  }
  const auto ast =
      models::ORTModelForAudioClassification::from_pretrained((fixtures / "models/ast-tiny-audiocls").string(), o);
  const Inputs a = inputs_of(fixtures, {"ast-tiny-audiocls", false});
  EXPECT_LE(max_diff(ast.forward(a.singles[0]).logits, resolve(fixtures, a.expected[0]->at("logits"))), 1e-4);
  const auto xv =
      models::ORTModelForAudioXVector::from_pretrained((fixtures / "models/wavlm-tiny-xvector").string(), o);
  const Inputs x = inputs_of(fixtures, {"wavlm-tiny-xvector", false});
  EXPECT_LE(max_diff(xv.forward(x.singles[0]).embeddings, resolve(fixtures, x.expected[0]->at("embeddings"))), 1e-4);
}

TEST(FamilyExportErrors, UnsupportedConfigurationsAreNamed) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = ortformers::testing::make_temp_dir("families-media-bad-config");
  for (const auto& e : fs::directory_iterator(fixtures / "models/wavlm-tiny-frames"))
    fs::copy(e.path(), dir / e.path().filename());
  Json cfg = read_json_file(dir / "config.json");
  cfg["num_buckets"] = 2;  // (do_stable_layer_norm true is exported since issue 23: tests/export_media)
  fs::remove(dir / "config.json");
  write_text_file(dir / "config.json", cfg.dump());
  try {
    build_model(dir, ExportOptions{});
    ADD_FAILURE() << "WavLM with num_buckets 2 exported";
  } catch (const UnsupportedError& err) {
    EXPECT_NE(std::string(err.what()).find("num_buckets 2"), std::string::npos) << err.what();
  }
  fs::remove_all(dir);
}

}  // namespace
