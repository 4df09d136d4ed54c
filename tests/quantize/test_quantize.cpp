// Dynamic int8 quantisation: the rewritten graphs pass the ONNX checker, run in ONNX Runtime, and keep the
// mean-pooled sentence embeddings of the fixture models within cosine 0.99 of fp32.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnxruntime_cxx_api.h>

#include <cmath>
#include <fstream>
#include <random>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/quantize.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;

namespace {

Ort::Env& env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_WARNING, "test_quantize");
  return e;
}

onnx::ModelProto load_model(const fs::path& p) {
  const std::string bytes = read_text_file(p);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::unique_ptr<Ort::Session> make_session(const onnx::ModelProto& m) {
  std::string bytes;
  EXPECT_TRUE(m.SerializeToString(&bytes));
  Ort::SessionOptions opts;
  opts.SetIntraOpNumThreads(1);
  opts.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  return std::make_unique<Ort::Session>(env(), bytes.data(), bytes.size(), opts);
}

struct Encoding {
  std::vector<std::int64_t> input_ids, attention_mask, token_type_ids;
};

// Runs a session on a padded batch; returns the first output [B, T, H].
std::vector<float> run(Ort::Session& s, const std::vector<Encoding>& batch, std::int64_t& T, std::int64_t& H) {
  T = 0;
  for (const auto& e : batch) T = std::max<std::int64_t>(T, static_cast<std::int64_t>(e.input_ids.size()));
  const auto B = static_cast<std::int64_t>(batch.size());
  std::map<std::string, std::vector<std::int64_t>> data;
  for (const char* n : {"input_ids", "attention_mask", "token_type_ids"})
    data[n].assign(static_cast<std::size_t>(B * T), 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& e = batch[static_cast<std::size_t>(b)];
    for (std::size_t t = 0; t < e.input_ids.size(); ++t) {
      const auto k = static_cast<std::size_t>(b * T) + t;
      data["input_ids"][k] = e.input_ids[t];
      data["attention_mask"][k] = e.attention_mask[t];
      data["token_type_ids"][k] = e.token_type_ids.empty() ? 0 : e.token_type_ids[t];
    }
  }
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<std::string> in_names, out_names;
  for (std::size_t i = 0; i < s.GetInputCount(); ++i) in_names.push_back(s.GetInputNameAllocated(i, alloc).get());
  for (std::size_t i = 0; i < s.GetOutputCount(); ++i) out_names.push_back(s.GetOutputNameAllocated(i, alloc).get());
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const std::int64_t shape[2] = {B, T};
  std::vector<Ort::Value> inputs;
  std::vector<const char*> in_c, out_c;
  for (const auto& n : in_names) {
    auto& v = data.at(n);
    inputs.push_back(Ort::Value::CreateTensor<std::int64_t>(mem, v.data(), v.size(), shape, 2));
    in_c.push_back(n.c_str());
  }
  out_c.push_back(out_names[0].c_str());
  auto outs = s.Run(Ort::RunOptions{nullptr}, in_c.data(), inputs.data(), inputs.size(), out_c.data(), 1);
  const auto info = outs[0].GetTensorTypeAndShapeInfo();
  const auto oshape = info.GetShape();
  EXPECT_EQ(oshape.size(), 3u);
  H = oshape[2];
  const float* p = outs[0].GetTensorData<float>();
  return {p, p + info.GetElementCount()};
}

std::vector<float> mean_pool(const std::vector<float>& h, const Encoding& e, std::size_t b, std::int64_t T,
                             std::int64_t H) {
  std::vector<float> out(static_cast<std::size_t>(H), 0.0f);
  float count = 0;
  for (std::size_t t = 0; t < e.input_ids.size(); ++t) {
    if (!e.attention_mask[t]) continue;
    count += 1;
    for (std::int64_t k = 0; k < H; ++k) out[static_cast<std::size_t>(k)] += h[(b * T + t) * H + k];
  }
  for (float& v : out) v /= count;
  return out;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

std::vector<Encoding> reference_encodings(const fs::path& reference_json) {
  const Json ref = read_json_file(reference_json);
  std::vector<Encoding> out;
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& tok = ref.at("tokenization").at(mo.at("tokenization_index").get<std::size_t>());
    Encoding e;
    e.input_ids = tok.at("input_ids").get<std::vector<std::int64_t>>();
    e.attention_mask = tok.at("attention_mask").get<std::vector<std::int64_t>>();
    if (tok.contains("token_type_ids")) e.token_type_ids = tok.at("token_type_ids").get<std::vector<std::int64_t>>();
    out.push_back(std::move(e));
  }
  return out;
}

std::size_t count_ops(const onnx::ModelProto& m, const std::string& op) {
  std::size_t n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

void check_model_parity(const fs::path& fixtures, const std::string& name, const QuantizeOptions& opt,
                        double min_cosine) {
  const onnx::ModelProto fp32 = load_model(fixtures / "onnx" / name / "model.onnx");
  onnx::ModelProto q = fp32;
  const QuantizeReport report = quantize_dynamic_int8(q, opt);
  EXPECT_GE(report.quantized_nodes, 6u);
  EXPECT_EQ(report.fused_biases, report.quantized_nodes) << "every dense layer's bias Add is folded";
  EXPECT_EQ(count_ops(q, "DynamicQuantizeMatMul"), report.quantized_nodes - report.merged_nodes);
  if (opt.per_channel) {
    EXPECT_EQ(report.merged_nodes, 2 * count_ops(q, "Split")) << "query/key/value share one node per layer";
    EXPECT_GE(report.merged_nodes, 2u);
  }
  EXPECT_LT(report.int8_weight_bytes * 3, report.float_weight_bytes);
  // Every MatMul left has no constant weight.
  std::set<std::string> inits;
  for (const auto& t : q.graph().initializer()) inits.insert(t.name());
  for (const auto& node : q.graph().node()) {
    if (node.op_type() == "MatMul") {
      EXPECT_FALSE(inits.count(node.input(1))) << node.name();
    }
  }
  auto s32 = make_session(fp32);
  auto s8 = make_session(q);
  const auto encodings = reference_encodings(fixtures / "reference" / (name + ".json"));
  ASSERT_GE(encodings.size(), 3u);
  double worst = 1.0;
  for (const auto& e : encodings) {  // one sequence at a time (dynamic scales depend on the batch)
    std::int64_t T, H, T8, H8;
    const auto h32 = run(*s32, {e}, T, H);
    const auto h8 = run(*s8, {e}, T8, H8);
    ASSERT_EQ(T, T8);
    ASSERT_EQ(H, H8);
    const double c = cosine(mean_pool(h32, e, 0, T, H), mean_pool(h8, e, 0, T, H));
    worst = std::min(worst, c);
    EXPECT_GE(c, min_cosine);
  }
  // And a padded batch of all of them.
  std::int64_t T, H;
  const auto h32 = run(*s32, encodings, T, H);
  const auto h8 = run(*s8, encodings, T, H);
  for (std::size_t b = 0; b < encodings.size(); ++b) {
    const double c = cosine(mean_pool(h32, encodings[b], b, T, H), mean_pool(h8, encodings[b], b, T, H));
    worst = std::min(worst, c);
    EXPECT_GE(c, min_cosine) << "batch row " << b;
  }
  std::cout << name << (opt.per_channel ? " per-channel" : " per-tensor") << ": " << report.quantized_nodes
            << " MatMul/Gemm quantised, " << report.fused_biases << " biases fused, weights "
            << report.float_weight_bytes << " -> " << report.int8_weight_bytes << " bytes, " << report.merged_nodes
            << " merged, worst cosine " << worst << "\n";
}

}  // namespace

TEST(QuantizeDynamicInt8, BertTinyKeepsSentenceEmbeddings) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_model_parity(fixtures, "bert-tiny", {}, 0.99);
}

TEST(QuantizeDynamicInt8, MiniLmSentenceTransformerKeepsSentenceEmbeddings) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  check_model_parity(fixtures, "minilm-tiny-st", {}, 0.99);
}

TEST(QuantizeDynamicInt8, PerTensorAndReducedRange) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  QuantizeOptions per_tensor;
  per_tensor.per_channel = false;
  check_model_parity(fixtures, "bert-tiny", per_tensor, 0.98);
  QuantizeOptions reduced;
  reduced.reduce_range = true;
  check_model_parity(fixtures, "bert-tiny", reduced, 0.98);
}

TEST(QuantizeDynamicInt8, FileRoundTripAndErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = ortformers::testing::make_temp_dir("quantize");
  const fs::path in = fixtures / "onnx" / "bert-tiny" / "model.onnx";
  const auto report = quantize_dynamic_int8_file(in, dir / "model_quantized.onnx");
  EXPECT_GT(report.quantized_nodes, 0u);
  EXPECT_LT(fs::file_size(dir / "model_quantized.onnx"), fs::file_size(in));
  const onnx::ModelProto q = load_model(dir / "model_quantized.onnx");
  bool has_ms = false;
  for (const auto& o : q.opset_import()) has_ms |= o.domain() == "com.microsoft";
  EXPECT_TRUE(has_ms);
  EXPECT_THROW(quantize_dynamic_int8_file(dir / "missing.onnx", dir / "x.onnx"), NotFoundError);
  write_text_file(dir / "garbage.onnx", std::string("\xff\xff\xff\xff not a model"));
  EXPECT_THROW(quantize_dynamic_int8_file(dir / "garbage.onnx", dir / "x.onnx"), FileFormatError);
}

// A hand-built graph: MatMul + Add(bias), Gemm(transB) with C, a weight shared by two MatMuls, an excluded node.
TEST(QuantizeDynamicInt8, HandBuiltGraphNumericsAndStructure) {
  const std::int64_t K = 16, N = 8, M = 5;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.5f);
  auto random = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
  };
  const auto w = random(K * N), bias = random(N), wt = random(N * K), x = random(M * K);
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto add_init = [&](const std::string& name, const std::vector<float>& v, std::vector<std::int64_t> dims) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  };
  add_init("W", w, {K, N});
  add_init("b", bias, {N});
  add_init("Wt", wt, {N, K});
  auto add_io = [&](bool input, const std::string& name, std::vector<std::int64_t> dims) {
    auto* vi = input ? g->add_input() : g->add_output();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_io(true, "X", {M, K});
  for (const char* o : {"Y1", "Y2", "Y3", "Y4"}) add_io(false, o, {M, N});
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out, const std::string& name) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("MatMul", {"X", "W"}, "mm1", "mm1");
  node("Add", {"b", "mm1"}, "Y1", "add1");
  auto* gemm = node("Gemm", {"X", "Wt", "b"}, "Y2", "gemm");
  auto* a = gemm->add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(1);
  node("MatMul", {"X", "W"}, "Y3", "mm_shared");
  node("MatMul", {"X", "W"}, "Y4", "mm_excluded");

  onnx::ModelProto q = m;
  QuantizeOptions opt;
  opt.nodes_to_exclude = {"mm_excluded"};
  const auto report = quantize_dynamic_int8(q, opt);
  EXPECT_EQ(report.quantized_nodes, 3u);
  EXPECT_EQ(report.fused_biases, 1u);
  EXPECT_EQ(count_ops(q, "DynamicQuantizeMatMul"), 3u);
  EXPECT_EQ(count_ops(q, "Add"), 0u);
  EXPECT_EQ(count_ops(q, "MatMul"), 1u);  // the excluded one, still on the float W
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : q.graph().initializer()) inits[t.name()] = &t;
  ASSERT_TRUE(inits.count("W"));    // still used by the excluded node
  EXPECT_FALSE(inits.count("Wt"));  // replaced
  ASSERT_TRUE(inits.count("W_quantized"));
  ASSERT_TRUE(inits.count("W_scale"));
  EXPECT_EQ(inits["W_scale"]->dims_size(), 1);
  EXPECT_EQ(inits["W_scale"]->dims(0), N);
  // Symmetric per-column: each column's largest magnitude maps to +-127.
  const std::string& qraw = inits["W_quantized"]->raw_data();
  for (std::int64_t n = 0; n < N; ++n) {
    int mx = 0;
    for (std::int64_t k = 0; k < K; ++k) mx = std::max(mx, std::abs(int(static_cast<std::int8_t>(qraw[k * N + n]))));
    EXPECT_EQ(mx, 127);
  }
  // Numerics: within int8 quantisation error of float.
  auto s32 = make_session(m);
  auto s8 = make_session(q);
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const std::int64_t shape[2] = {M, K};
  auto xv = x;
  auto in = Ort::Value::CreateTensor<float>(mem, xv.data(), xv.size(), shape, 2);
  const char* in_names[] = {"X"};
  const char* out_names[] = {"Y1", "Y2", "Y3", "Y4"};
  auto o32 = s32->Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 4);
  auto o8 = s8->Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 4);
  for (int k = 0; k < 4; ++k) {
    const float* a32 = o32[static_cast<std::size_t>(k)].GetTensorData<float>();
    const float* a8 = o8[static_cast<std::size_t>(k)].GetTensorData<float>();
    double max_diff = 0, max_abs = 0;
    for (std::int64_t i = 0; i < M * N; ++i) {
      max_diff = std::max(max_diff, double(std::fabs(a32[i] - a8[i])));
      max_abs = std::max(max_abs, double(std::fabs(a32[i])));
    }
    EXPECT_LT(max_diff, 0.03 * max_abs + 1e-3) << out_names[k];
    if (k == 3) {
      EXPECT_EQ(max_diff, 0.0) << "excluded node stays float";
    }
  }
}

// The --optimize graph's com.microsoft Attention (packed QKV) becomes DynamicQuantizeLinear + QAttention.
TEST(QuantizeDynamicInt8, ContribAttentionBecomesQAttention) {
  const std::int64_t B = 2, S = 7, D = 32, heads = 4;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  auto random = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
  };
  const auto w = random(D * 3 * D), bias = random(3 * D), x = random(B * S * D);
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* ms = m.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto add_init = [&](const std::string& name, const std::vector<float>& v, std::vector<std::int64_t> dims) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  };
  add_init("qkv.weight", w, {D, 3 * D});
  add_init("qkv.bias", bias, {3 * D});
  auto add_io = [&](bool input, const std::string& name, int type, std::vector<std::int64_t> dims) {
    auto* vi = input ? g->add_input() : g->add_output();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_io(true, "X", onnx::TensorProto::FLOAT, {B, S, D});
  add_io(true, "mask", onnx::TensorProto::INT32, {B, S});
  add_io(false, "Y", onnx::TensorProto::FLOAT, {B, S, D});
  auto* n = g->add_node();
  n->set_op_type("Attention");
  n->set_domain("com.microsoft");
  n->set_name("attn");
  for (const char* i : {"X", "qkv.weight", "qkv.bias", "mask"}) n->add_input(i);
  n->add_output("Y");
  auto* a = n->add_attribute();
  a->set_name("num_heads");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(heads);

  onnx::ModelProto q = m;
  const auto report = quantize_dynamic_int8(q);
  EXPECT_EQ(report.quantized_nodes, 1u);
  EXPECT_EQ(count_ops(q, "QAttention"), 1u);
  EXPECT_EQ(count_ops(q, "DynamicQuantizeLinear"), 1u);
  EXPECT_EQ(count_ops(q, "Attention"), 0u);
  // Not quantised when Attention is left out of op_types.
  onnx::ModelProto kept = m;
  QuantizeOptions no_attention;
  no_attention.op_types = {"MatMul", "Gemm"};
  EXPECT_EQ(quantize_dynamic_int8(kept, no_attention).quantized_nodes, 0u);

  auto s32 = make_session(m);
  auto s8 = make_session(q);
  const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const std::int64_t xs[3] = {B, S, D}, msh[2] = {B, S};
  auto xv = x;
  std::vector<std::int32_t> mask(B * S, 1);
  for (std::int64_t s = 5; s < S; ++s) mask[static_cast<std::size_t>(S + s)] = 0;  // row 1 padded after 5 tokens
  std::vector<Ort::Value> in;
  in.push_back(Ort::Value::CreateTensor<float>(mem, xv.data(), xv.size(), xs, 3));
  in.push_back(Ort::Value::CreateTensor<std::int32_t>(mem, mask.data(), mask.size(), msh, 2));
  const char* in_names[] = {"X", "mask"};
  const char* out_names[] = {"Y"};
  auto o32 = s32->Run(Ort::RunOptions{nullptr}, in_names, in.data(), 2, out_names, 1);
  auto o8 = s8->Run(Ort::RunOptions{nullptr}, in_names, in.data(), 2, out_names, 1);
  const float* a32 = o32[0].GetTensorData<float>();
  const float* a8 = o8[0].GetTensorData<float>();
  double max_diff = 0, max_abs = 0;
  for (std::int64_t i = 0; i < B * S * D; ++i) {
    max_diff = std::max(max_diff, double(std::fabs(a32[i] - a8[i])));
    max_abs = std::max(max_abs, double(std::fabs(a32[i])));
  }
  EXPECT_GT(max_abs, 0.1);
  EXPECT_LT(max_diff, 0.03 * max_abs) << "max_abs " << max_abs;
}

// Merging query/key/value into one node changes nothing numerically (same activation quantisation, same per-column
// weight scales).
TEST(QuantizeDynamicInt8, MergedSharedInputMatchesSeparateNodes) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const onnx::ModelProto fp32 = load_model(fixtures / "onnx" / "bert-tiny" / "model.onnx");
  onnx::ModelProto merged = fp32, separate = fp32;
  QuantizeOptions no_merge;
  no_merge.merge_shared_input = false;
  EXPECT_GT(quantize_dynamic_int8(merged).merged_nodes, 0u);
  EXPECT_EQ(quantize_dynamic_int8(separate, no_merge).merged_nodes, 0u);
  EXPECT_EQ(count_ops(separate, "Split"), 0u);
  auto sm = make_session(merged);
  auto ss = make_session(separate);
  const auto encodings = reference_encodings(fixtures / "reference" / "bert-tiny.json");
  std::int64_t T, H;
  const auto a = run(*sm, encodings, T, H);
  const auto b = run(*ss, encodings, T, H);
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
  EXPECT_LT(max_diff, 1e-5);
}
