// Dynamic int8 quantisation: the rewritten graphs pass the ONNX checker, run in ONNX Runtime, and keep the
// mean-pooled sentence embeddings of the fixture models within cosine 0.99 of fp32.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnxruntime_cxx_api.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

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

// Without VNNI, ONNX Runtime's u8 x s8 kernels (AVX2, AVX-512BW) sum two adjacent-k products a0*w0 + a1*w1 in a
// saturating int16 (vpmaddubsw). With activations in [0, 255] that sum overflows when 255 * (|w0| + |w1|) > 32767
// for two same-signed weights. Counts the (k pair, column) places of every int8 weight where that can happen.
static std::size_t saturable_pairs(const onnx::ModelProto& m) {
  std::set<std::string> weights;
  for (const auto& node : m.graph().node()) {
    if (node.op_type() == "DynamicQuantizeMatMul" || node.op_type() == "QAttention") weights.insert(node.input(1));
  }
  std::size_t count = 0;
  for (const auto& t : m.graph().initializer()) {
    if (!weights.count(t.name()) || t.data_type() != onnx::TensorProto::INT8 || t.dims_size() != 2) continue;
    const std::int64_t K = t.dims(0), N = t.dims(1);
    const auto* q = reinterpret_cast<const std::int8_t*>(t.raw_data().data());
    for (std::int64_t k = 0; k + 1 < K; k += 2) {
      for (std::int64_t n = 0; n < N; ++n) {
        const int w0 = q[k * N + n], w1 = q[(k + 1) * N + n];
        if ((w0 >= 0) == (w1 >= 0) && 255 * (std::abs(w0) + std::abs(w1)) > 32767) ++count;
      }
    }
  }
  return count;
}

TEST(QuantizeDynamicInt8, DefaultSchemeCannotSaturateOnCpusWithoutVnni) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const onnx::ModelProto fp32 = load_model(fixtures / "onnx" / "bert-tiny" / "model.onnx");
  std::map<std::string, std::size_t> saturable;
  for (const auto& preset : quantization_preset_names()) {
    onnx::ModelProto q = fp32;
    quantize_dynamic_int8(q, quantization_preset(preset));
    saturable[preset] = saturable_pairs(q);
  }
  EXPECT_EQ(saturable["int8"], 0u) << "the default must be exact on AVX2-only CPUs";
  EXPECT_EQ(saturable["avx512"], 0u);
  EXPECT_EQ(saturable["avx2"], 0u) << "uint8 weights: u8 x u8 kernels widen to int16 first";
  // The 8-bit u8 x s8 schemes (for VNNI / ARM) do have such places: what the check above guards against.
  EXPECT_GT(saturable["avx512_vnni"], 0u);
  EXPECT_EQ(quantization_preset("int8").reduce_range, true);
  EXPECT_EQ(quantization_preset("avx2").weight_type, WeightType::UInt8);
  const std::string err = [] {
    try {
      quantization_preset("int4");
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(err.find("int4"), std::string::npos) << err;
  EXPECT_NE(err.find("avx512_vnni"), std::string::npos) << err;
  EXPECT_EQ(describe(quantization_preset("int8")), "u8s8, 7-bit weights (reduce_range), per-channel");
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
  // Symmetric per-column: each column's largest magnitude maps to +-63 (the default's 7-bit weights, which no CPU's
  // int8 kernel can saturate), +-127 with the avx512_vnni preset, 128 +- 127 with avx2's uint8 weights.
  auto column_max = [&](const onnx::ModelProto& model, bool u8) {
    std::vector<int> mx(static_cast<std::size_t>(N), 0);
    for (const auto& t : model.graph().initializer()) {
      if (t.name() != "W_quantized") continue;
      EXPECT_EQ(t.data_type(), u8 ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8);
      for (std::int64_t k = 0; k < K; ++k) {
        for (std::int64_t n = 0; n < N; ++n) {
          const char c = t.raw_data()[static_cast<std::size_t>(k * N + n)];
          const int v = u8 ? int(static_cast<std::uint8_t>(c)) - 128 : int(static_cast<std::int8_t>(c));
          mx[static_cast<std::size_t>(n)] = std::max(mx[static_cast<std::size_t>(n)], std::abs(v));
        }
      }
    }
    return mx;
  };
  for (int v : column_max(q, false)) EXPECT_EQ(v, 63);
  {
    onnx::ModelProto full = m;
    QuantizeOptions vnni = quantization_preset("avx512_vnni");
    vnni.nodes_to_exclude = {"mm_excluded"};
    quantize_dynamic_int8(full, vnni);
    for (int v : column_max(full, false)) EXPECT_EQ(v, 127);
    onnx::ModelProto u8 = m;
    QuantizeOptions avx2 = quantization_preset("avx2");
    avx2.nodes_to_exclude = {"mm_excluded"};
    quantize_dynamic_int8(u8, avx2);
    for (int v : column_max(u8, true)) EXPECT_EQ(v, 127);
    bool zero_point = false;
    for (const auto& t : u8.graph().initializer()) {
      if (t.name() != "W_zero_point") continue;
      zero_point = true;
      EXPECT_EQ(t.data_type(), onnx::TensorProto::UINT8);
      EXPECT_EQ(t.raw_data(), std::string(static_cast<std::size_t>(N), static_cast<char>(128)));
    }
    EXPECT_TRUE(zero_point);
  }
  // Numerics: within int8 quantisation error of float, for every scheme.
  auto s32 = make_session(m);
  auto check_numerics = [&](const onnx::ModelProto& qm, const char* scheme) {
    auto s8 = make_session(qm);
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
      EXPECT_LT(max_diff, 0.03 * max_abs + 1e-3) << scheme << " " << out_names[k];
      if (k == 3) {
        EXPECT_EQ(max_diff, 0.0) << "excluded node stays float";
      }
    }
  };
  check_numerics(q, "int8");
  for (const char* preset : {"avx2", "avx512_vnni"}) {
    // avx512_vnni's 8-bit u8 x s8 weights are only exact on CPUs with VNNI (elsewhere vpmaddubsw saturates).
    if (std::string(preset) == "avx512_vnni" && !cpu_has_int8_dot_product()) continue;
    onnx::ModelProto other = m;
    QuantizeOptions o = quantization_preset(preset);
    o.nodes_to_exclude = {"mm_excluded"};
    quantize_dynamic_int8(other, o);
    check_numerics(other, preset);
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
