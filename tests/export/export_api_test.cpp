// export_model / export_to_cache / CLI-level behaviour: output folder, errors on bad input, opset 14, external
// data, pytorch_model.bin vs safetensors, optimized graph structure, a synthetic MPNet checkpoint.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "export/exporter.hpp"
#include "export/graph/graph_builder.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using ortformers::testing::make_temp_dir;
using ortformers::testing::max_diff;
using ortformers::testing::OrtRunner;

namespace {

TensorMap ids_feeds(const std::vector<std::string>& names, std::vector<std::int64_t> ids, Shape shape) {
  TensorMap m;
  for (const auto& n : names) {
    if (n == "input_ids")
      m[n] = Tensor::from_vector(ids, shape);
    else if (n == "attention_mask")
      m[n] = Tensor::from_vector(std::vector<std::int64_t>(ids.size(), 1), shape);
    else
      m[n] = Tensor::from_vector(std::vector<std::int64_t>(ids.size(), 0), shape);
  }
  return m;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

TEST(Export, WritesOptimumStyleFolder) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto out = make_temp_dir("export-folder");
  ExportOptions o;
  auto r = export_model(fixtures / "models" / "bert-tiny-seqcls", out / "onnx", o);
  EXPECT_EQ(r.model_type, "bert");
  EXPECT_EQ(r.task, "text-classification");
  EXPECT_EQ(r.input_names, (std::vector<std::string>{"input_ids", "attention_mask", "token_type_ids"}));
  EXPECT_EQ(r.output_names, (std::vector<std::string>{"logits"}));
  for (const char* f :
       {"model.onnx", "config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::is_regular_file(out / "onnx" / f)) << f;
  EXPECT_EQ(read_all(out / "onnx" / "config.json"), read_all(fixtures / "models" / "bert-tiny-seqcls" / "config.json"));
  EXPECT_EQ(r.onnx_bytes, fs::file_size(out / "onnx" / "model.onnx"));
  OrtRunner run(out / "onnx" / "model.onnx");
  auto y = run.run(ids_feeds(run.inputs, {101, 7592, 2088, 102}, {1, 4}));
  EXPECT_EQ(shape_to_string(y.at("logits").shape()), "[1, 3]");
}

TEST(Export, SentenceTransformersFolderCopiesModules) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto out = make_temp_dir("export-st");
  auto r = export_model(fixtures / "models" / "minilm-tiny-st", out, {});
  EXPECT_EQ(r.library_name, "sentence_transformers");
  EXPECT_EQ(r.output_names, (std::vector<std::string>{"token_embeddings", "sentence_embedding"}));
  EXPECT_EQ(r.input_names, (std::vector<std::string>{"input_ids", "attention_mask"}));
  for (const char* f : {"modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "vocab.txt"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
}

TEST(Export, InfersTheRecordedTask) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name :
       {"bert-tiny", "bert-tiny-mlm", "bert-tiny-multiple-choice", "bert-tiny-ner", "bert-tiny-nli", "bert-tiny-qa",
        "bert-tiny-seqcls", "distilbert-tiny", "distilbert-tiny-qa", "electra-tiny-ner", "albert-tiny", "roberta-tiny",
        "roberta-tiny-seqcls", "minilm-tiny-st"}) {
    const auto ref = read_json_file(fixtures / "reference" / (std::string(name) + ".json"));
    EXPECT_EQ(infer_task(fixtures / "models" / name), ref.at("onnx").at(name).at("task").get<std::string>()) << name;
  }
}

TEST(Export, UnknownModelTypeListsSupported) {
  const auto dir = make_temp_dir("export-unknown");
  write(dir / "config.json", R"({"model_type": "gpt-unknown", "architectures": ["GptUnknownModel"]})");
  try {
    build_model(dir, {});
    FAIL() << "expected an error";
  } catch (const UnsupportedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("gpt-unknown"), std::string::npos) << m;
    for (const char* t : {"bert", "roberta", "distilbert", "electra", "albert", "mpnet", "xlm-roberta", "camembert"})
      EXPECT_NE(m.find(t), std::string::npos) << m;
  }
}

TEST(Export, ConfigWeightsMismatchNamesTheTensor) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = make_temp_dir("export-mismatch");
  auto cfg = read_json_file(fixtures / "models" / "bert-tiny" / "config.json");
  cfg["intermediate_size"] = 40;
  write(dir / "config.json", cfg.dump());
  fs::copy_file(fixtures / "models" / "bert-tiny" / "model.safetensors", dir / "model.safetensors");
  try {
    build_model(dir, {});
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("[37, 32]"), std::string::npos) << m;
    EXPECT_NE(m.find("[40, 32]"), std::string::npos) << m;
  }
}

TEST(Export, MissingTensorIsNamed) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = make_temp_dir("export-missing");
  fs::copy_file(fixtures / "models" / "bert-tiny" / "config.json", dir / "config.json");
  auto sd = load_checkpoint(fixtures / "models" / "bert-tiny");
  std::vector<std::pair<std::string, Tensor>> kept;
  for (const auto& [n, t] : sd)
    if (n != "encoder.layer.1.output.LayerNorm.bias") kept.emplace_back(n, t);
  save_safetensors(dir / "model.safetensors", kept);
  try {
    build_model(dir, {});
    FAIL() << "expected an error";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.layer.1.output.LayerNorm.bias"), std::string::npos) << e.what();
  }
}

TEST(Export, BadOptionsAreRejected) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto m = fixtures / "models" / "bert-tiny";
  ExportOptions o;
  o.opset = 13;
  EXPECT_THROW(build_model(m, o), InvalidArgument);
  o = {};
  o.task = "translation";
  EXPECT_THROW(build_model(m, o), InvalidArgument);
  o = {};
  o.quantize = "int3";  // not a scheme (int4 and int4_asym are: tests/export_generative)
  EXPECT_THROW(build_model(m, o), InvalidArgument);
  EXPECT_THROW(build_model(fixtures / "models" / "no-such-model", {}), NotFoundError);
}

// Opset 14-16 decompose LayerNormalization; outputs must match opset 17.
TEST(Export, Opset14MatchesOpset17) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"bert-tiny", "albert-tiny", "roberta-tiny-seqcls", "distilbert-tiny-qa"}) {
    ExportOptions a, b;
    b.opset = 14;
    auto ma = build_model(fixtures / "models" / name, a);
    auto mb = build_model(fixtures / "models" / name, b);
    EXPECT_EQ(mb.model.opset_import(0).version(), 14);
    OrtRunner ra(ma.model), rb(mb.model);
    auto f = ids_feeds(ra.inputs, {0, 101, 7592, 2088, 999, 2, 102}, {1, 7});
    auto ya = ra.run(f), yb = rb.run(f);
    for (const auto& [k, v] : ya) EXPECT_LT(max_diff(v, yb.at(k)), 1e-5) << name << " " << k;
  }
}

TEST(Export, OptimizedGraphUsesFusedOps) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ExportOptions o;
  o.optimize = true;
  for (const char* name : {"bert-tiny", "albert-tiny"}) {
    auto m = build_model(fixtures / "models" / name, o);
    std::map<std::string, int> ops;
    for (const auto& n : m.model.graph().node()) ops[n.op_type()]++;
    EXPECT_EQ(ops["Attention"], 2) << name;
    // Add + LayerNormalization, not SkipLayerNormalization (slower on ORT's CPU provider; see layers.cpp).
    EXPECT_EQ(ops["SkipLayerNormalization"], 0) << name;
    EXPECT_EQ(ops["LayerNormalization"], 5) << name;
    EXPECT_EQ(ops[std::string(name) == "albert-tiny" ? "FastGelu" : "Gelu"], 2) << name;
    EXPECT_EQ(ops["BiasGelu"], 0) << name;
    EXPECT_EQ(ops["Softmax"], 0) << name;
    EXPECT_EQ(ops["Erf"], 0) << name;
    bool ms = false;
    for (const auto& op : m.model.opset_import()) ms |= op.domain() == "com.microsoft";
    EXPECT_TRUE(ms);
  }
}

TEST(Export, OptimizedMatchesPlainOnPaddedBatch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"bert-tiny", "distilbert-tiny", "roberta-tiny", "electra-tiny-ner", "albert-tiny"}) {
    ExportOptions p, q;
    q.optimize = true;
    OrtRunner rp(build_model(fixtures / "models" / name, p).model),
        rq(build_model(fixtures / "models" / name, q).model);
    TensorMap f;
    std::vector<std::int64_t> ids = {101, 2023, 2003, 1037, 3231, 102, 101, 7592, 102, 0, 0, 0};
    std::vector<std::int64_t> mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
    for (const auto& n : rp.inputs) {
      if (n == "input_ids")
        f[n] = Tensor::from_vector(ids, {2, 6});
      else if (n == "attention_mask")
        f[n] = Tensor::from_vector(mask, {2, 6});
      else
        f[n] = Tensor::from_vector(std::vector<std::int64_t>(12, 0), {2, 6});
    }
    auto a = rp.run(f), b = rq.run(f);
    for (const auto& [k, v] : a) EXPECT_LT(max_diff(v, b.at(k)), 1e-4) << name << " " << k;
  }
}

TEST(Export, PytorchBinAndSafetensorsGiveTheSameGraph) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const char* name : {"bert-tiny", "distilbert-tiny", "roberta-tiny", "albert-tiny"}) {
    const auto dir = make_temp_dir("export-bin");
    fs::copy_file(fixtures / "models" / name / "config.json", dir / "config.json");
    fs::copy_file(fixtures / "models" / name / "pytorch_model.bin", dir / "pytorch_model.bin");
    auto a = build_model(fixtures / "models" / name, {});
    auto b = build_model(dir, {});
    ASSERT_EQ(a.model.graph().initializer_size(), b.model.graph().initializer_size()) << name;
    for (int i = 0; i < a.model.graph().initializer_size(); ++i) {
      EXPECT_EQ(a.model.graph().initializer(i).name(), b.model.graph().initializer(i).name());
      EXPECT_TRUE(a.model.graph().initializer(i).raw_data() == b.model.graph().initializer(i).raw_data())
          << name << " " << a.model.graph().initializer(i).name();
    }
  }
}

TEST(Export, ExternalDataRoundTrips) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = make_temp_dir("export-external");
  auto m = build_model(fixtures / "models" / "bert-tiny", {});
  OrtRunner inmem(m.model);
  save_model(m.model, dir / "model.onnx", /*external_threshold=*/0);
  EXPECT_TRUE(fs::exists(dir / "model.onnx.data"));
  EXPECT_LT(fs::file_size(dir / "model.onnx"), 100000u);
  OrtRunner fromfile(dir / "model.onnx");
  auto f = ids_feeds(inmem.inputs, {101, 7592, 2088, 102}, {1, 4});
  EXPECT_EQ(max_diff(inmem.run(f).at("last_hidden_state"), fromfile.run(f).at("last_hidden_state")), 0.0);
  // The same with initializers streamed from the checkpoint (what export_model does), inline and external.
  for (std::uintmax_t threshold : {std::uintmax_t{0}, std::uintmax_t{1} << 40}) {
    const auto sub = dir / (threshold == 0 ? "streamed-external" : "streamed-inline");
    fs::create_directories(sub);
    auto d = build_model(fixtures / "models" / "bert-tiny", {}, {}, /*materialize=*/false);
    EXPECT_FALSE(d.deferred.empty());
    save_model(d.model, d.deferred, sub / "model.onnx", threshold);
    EXPECT_EQ(fs::exists(sub / "model.onnx.data"), threshold == 0);
    OrtRunner streamed(sub / "model.onnx");
    EXPECT_EQ(max_diff(inmem.run(f).at("last_hidden_state"), streamed.run(f).at("last_hidden_state")), 0.0);
  }
}

TEST(Export, QuantizedExportFolderLoads) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (bool optimize : {false, true}) {
    const auto out = make_temp_dir("export-int8");
    ExportOptions q;
    q.quantize = "int8";
    q.optimize = optimize;
    export_model(fixtures / "models" / "bert-tiny-qa", out, q);
    OrtRunner run(out / "model.onnx");
    auto y = run.run(ids_feeds(run.inputs, {101, 7592, 2088, 102}, {1, 4}));
    EXPECT_EQ(shape_to_string(y.at("start_logits").shape()), "[1, 4]");
  }
}

TEST(Export, QuantizedInt8GraphIsCloseToFloat) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ExportOptions q;
  q.quantize = "int8";
  for (bool optimize : {false, true}) {
    q.optimize = optimize;
    auto fm = build_model(fixtures / "models" / "minilm-tiny-st", {});
    auto qm = build_model(fixtures / "models" / "minilm-tiny-st", q);
    int dq = 0;
    for (const auto& n : qm.model.graph().node())
      dq += n.op_type() == "DynamicQuantizeMatMul" || n.op_type() == "QAttention";
    EXPECT_GT(dq, 0);
    OrtRunner rf(fm.model), rq(qm.model);
    auto f = ids_feeds(rf.inputs, {101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102}, {1, 12});
    auto a = rf.run(f).at("sentence_embedding").to_float_vector();
    auto b = rq.run(f).at("sentence_embedding").to_float_vector();
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    EXPECT_GT(ab / std::sqrt(aa * bb), 0.99) << (optimize ? "optimized" : "plain");
  }
}

TEST(Export, CacheIsReused) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto cache = make_temp_dir("export-cache");
  ::setenv("ORTFORMERS_CACHE", cache.c_str(), 1);
  const auto a = export_to_cache(fixtures / "models" / "bert-tiny-qa");
  const auto t = fs::last_write_time(a / "model.onnx");
  const auto b = export_to_cache(fixtures / "models" / "bert-tiny-qa");
  EXPECT_EQ(a, b);
  EXPECT_EQ(fs::last_write_time(b / "model.onnx"), t);
  ExportOptions o;
  o.optimize = true;
  const auto c = export_to_cache(fixtures / "models" / "bert-tiny-qa", o);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.parent_path(), cache);
  ::unsetenv("ORTFORMERS_CACHE");
}

}  // namespace
