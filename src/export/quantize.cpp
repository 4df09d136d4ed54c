// Dynamic int8 quantisation pass (see quantize.hpp).
#include "ortformers/export/quantize.hpp"

#include <onnx/checker.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::exporters {

namespace {

constexpr const char* kMsDomain = "com.microsoft";

// Counts the uses of every value name: node inputs (subgraphs included) and graph outputs.
void count_uses(const onnx::GraphProto& g, std::unordered_map<std::string, int>& uses) {
  for (const auto& n : g.node()) {
    for (const auto& i : n.input()) {
      if (!i.empty()) ++uses[i];
    }
    for (const auto& a : n.attribute()) {
      if (a.has_g()) count_uses(a.g(), uses);
      for (const auto& sg : a.graphs()) count_uses(sg, uses);
    }
  }
  for (const auto& o : g.output()) ++uses[o.name()];
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t def) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : def;
}
float attr_float(const onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = find_attr(n, name);
  return a ? a->f() : def;
}

bool is_external(const onnx::TensorProto& t) {
  return t.data_location() == onnx::TensorProto::EXTERNAL;
}

// The float values of an in-memory float32 initializer, or false.
bool read_floats(const onnx::TensorProto& t, std::vector<float>& out) {
  if (t.data_type() != onnx::TensorProto::FLOAT || is_external(t)) return false;
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0) return false;
    n *= d;
  }
  out.resize(static_cast<std::size_t>(n));
  if (t.has_raw_data()) {
    if (t.raw_data().size() != out.size() * sizeof(float)) return false;
    if (!out.empty()) std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
    return true;
  }
  if (static_cast<std::size_t>(t.float_data_size()) != out.size()) return false;
  std::copy(t.float_data().begin(), t.float_data().end(), out.begin());
  return true;
}

struct QuantizedWeight {
  std::string q_name, scale_name;
  std::string zero_point_name;  // uint8 weights only (zero point 128); empty for int8 (zero point 0)
  std::size_t bytes = 0;
};

// Quantises W [K, N] (or B^T when `transposed`: B is [N, K]) into int8 [K, N] + float scales [N] or [] (uint8
// weights: the same values + 128, with a zero point of 128 per scale).
QuantizedWeight quantize_weight(const std::vector<float>& src, std::int64_t rows, std::int64_t cols, bool transposed,
                                const std::string& base, const QuantizeOptions& opt, onnx::GraphProto& graph) {
  const std::int64_t K = transposed ? cols : rows;
  const std::int64_t N = transposed ? rows : cols;
  const auto Nz = static_cast<std::size_t>(N);
  std::vector<float> transposed_copy;
  if (transposed) {  // B [N, K] -> W [K, N]
    transposed_copy.resize(src.size());
    for (std::int64_t n = 0; n < N; ++n) {
      for (std::int64_t k = 0; k < K; ++k) {
        transposed_copy[static_cast<std::size_t>(k * N + n)] = src[static_cast<std::size_t>(n * K + k)];
      }
    }
  }
  const float* w = transposed ? transposed_copy.data() : src.data();
  const float qmax = opt.reduce_range ? 63.0f : 127.0f;
  // Column-wise max |w| (row-major loops, vectorisable).
  std::vector<float> amax(Nz, 0.0f);
  for (std::int64_t k = 0; k < K; ++k) {
    const float* row = w + k * N;
    for (std::size_t n = 0; n < Nz; ++n) amax[n] = std::max(amax[n], std::fabs(row[n]));
  }
  if (!opt.per_channel) amax.assign(Nz, *std::max_element(amax.begin(), amax.end()));
  std::vector<float> col_scale(Nz);
  for (std::size_t n = 0; n < Nz; ++n) {
    col_scale[n] = (amax[n] > 0.0f && std::isfinite(amax[n])) ? amax[n] / qmax : 1.0f;
  }
  std::vector<float> scales = opt.per_channel ? col_scale : std::vector<float>{col_scale.empty() ? 1.0f : col_scale[0]};
  std::string q(static_cast<std::size_t>(K * N), '\0');
  auto* qd = reinterpret_cast<std::int8_t*>(q.data());
  const bool u8 = opt.weight_type == WeightType::UInt8;
  // round(w / s) half to even: |w / s| <= qmax after clamping, where adding and subtracting 1.5 * 2^23 rounds
  // exactly like nearbyint in the default rounding mode.
  constexpr float kRound = 12582912.0f;
  for (std::int64_t k = 0; k < K; ++k) {
    const float* row = w + k * N;
    std::int8_t* out = qd + k * N;
    for (std::size_t n = 0; n < Nz; ++n) {
      float v = row[n] / col_scale[n];
      v = v > -qmax ? v : -qmax;  // NaN -> -qmax
      v = v < qmax ? v : qmax;
      v = (v + kRound) - kRound;
      out[n] = u8 ? static_cast<std::int8_t>(static_cast<std::uint8_t>(static_cast<int>(v) + 128))
                  : static_cast<std::int8_t>(v);
    }
  }
  QuantizedWeight out;
  out.q_name = base + "_quantized";
  out.scale_name = base + "_scale";
  auto* tq = graph.add_initializer();
  tq->set_name(out.q_name);
  tq->set_data_type(u8 ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8);
  tq->add_dims(K);
  tq->add_dims(N);
  tq->set_raw_data(std::move(q));
  auto* ts = graph.add_initializer();
  ts->set_name(out.scale_name);
  ts->set_data_type(onnx::TensorProto::FLOAT);
  if (opt.per_channel) ts->add_dims(N);
  ts->set_raw_data(std::string(reinterpret_cast<const char*>(scales.data()), scales.size() * sizeof(float)));
  out.bytes = static_cast<std::size_t>(K * N) + scales.size() * sizeof(float);
  if (u8) {
    out.zero_point_name = base + "_zero_point";
    auto* tz = graph.add_initializer();
    tz->set_name(out.zero_point_name);
    tz->set_data_type(onnx::TensorProto::UINT8);
    if (opt.per_channel) tz->add_dims(N);
    tz->set_raw_data(std::string(scales.size(), static_cast<char>(128)));
    out.bytes += scales.size();
  }
  return out;
}

std::string unique_name(const std::string& base, const std::unordered_set<std::string>& taken) {
  if (!taken.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!taken.count(c)) return c;
  }
}

}  // namespace

const std::vector<std::string>& quantization_preset_names() {
  static const std::vector<std::string> names = {"int8", "avx2", "avx512", "avx512_vnni", "arm64"};
  return names;
}

QuantizeOptions quantization_preset(const std::string& name) {
  QuantizeOptions o;
  if (name == "int8" || name == "avx512") {
    o.weight_type = WeightType::Int8;
    o.reduce_range = true;
  } else if (name == "avx512_vnni" || name == "arm64") {
    o.weight_type = WeightType::Int8;
    o.reduce_range = false;
  } else if (name == "avx2") {
    o.weight_type = WeightType::UInt8;
    o.reduce_range = false;
  } else {
    std::string list;
    for (const auto& n : quantization_preset_names()) list += (list.empty() ? "" : ", ") + n;
    throw InvalidArgument("unknown quantization '" + name + "' (expected one of: " + list + ")");
  }
  return o;
}

std::string describe(const QuantizeOptions& o) {
  std::string s = o.weight_type == WeightType::UInt8 ? "u8u8 (uint8 weights, zero point 128)" : "u8s8";
  if (o.weight_type == WeightType::Int8) s += o.reduce_range ? ", 7-bit weights (reduce_range)" : ", 8-bit weights";
  s += o.per_channel ? ", per-channel" : ", per-tensor";
  return s;
}

bool cpu_has_int8_dot_product() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx512_vnni = (c >> 11) & 1u;  // CPUID.(7,0):ECX[11]
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx_vnni = (a >> 4) & 1u;  // CPUID.(7,1):EAX[4]
  return avx512_vnni || avx_vnni;
#elif defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

QuantizeReport quantize_dynamic_int8(onnx::ModelProto& model, const QuantizeOptions& opt) {
  QuantizeReport report;
  onnx::GraphProto& graph = *model.mutable_graph();

  std::unordered_map<std::string, int> init_index;
  for (int i = 0; i < graph.initializer_size(); ++i) init_index[graph.initializer(i).name()] = i;
  std::unordered_set<std::string> graph_inputs;  // initializers that are also inputs can be overridden: not constant
  for (const auto& in : graph.input()) graph_inputs.insert(in.name());
  std::unordered_set<std::string> taken;
  for (const auto& t : graph.initializer()) taken.insert(t.name());
  for (const auto& n : graph.node()) {
    for (const auto& o : n.output()) taken.insert(o);
  }
  std::unordered_map<std::string, int> uses;
  count_uses(graph, uses);
  std::unordered_map<std::string, int> producer;  // value name -> node index
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const auto& o : graph.node(i).output()) producer[o] = i;
  }
  std::unordered_map<std::string, std::vector<int>> consumers;
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const auto& in : graph.node(i).input()) consumers[in].push_back(i);
  }

  // Constants: initializers that are not graph inputs, and Constant nodes with a tensor "value" (torch's exporter
  // writes many biases that way).
  std::unordered_map<std::string, const onnx::TensorProto*> constant_nodes;
  for (const auto& n : graph.node()) {
    if (n.op_type() == "Constant" && n.domain().empty() && n.output_size() == 1) {
      const auto* v = find_attr(n, "value");
      if (v && v->has_t()) constant_nodes[n.output(0)] = &v->t();
    }
  }
  // ... and Identity nodes over either (the exporter's deduplication of equal weights).
  std::unordered_map<std::string, std::string> identity_of;
  for (const auto& n : graph.node()) {
    if (n.op_type() == "Identity" && n.domain().empty() && n.input_size() == 1 && n.output_size() == 1) {
      identity_of[n.output(0)] = n.input(0);
    }
  }
  auto constant = [&](std::string name) -> const onnx::TensorProto* {
    for (int depth = 0; depth < 64; ++depth) {
      if (graph_inputs.count(name)) return nullptr;
      auto it = init_index.find(name);
      if (it != init_index.end()) return &graph.initializer(it->second);
      auto c = constant_nodes.find(name);
      if (c != constant_nodes.end()) return c->second;
      auto id = identity_of.find(name);
      if (id == identity_of.end()) return nullptr;
      name = id->second;
    }
    return nullptr;
  };
  std::unordered_set<std::string> touched_weights;  // float constants replaced (removed when no longer used)
  // A constant as an initializer name the new node can use wherever it sits in the node order.
  auto as_initializer = [&](const std::string& name, const onnx::TensorProto& t) -> std::string {
    if (init_index.count(name)) return name;
    onnx::TensorProto copy = t;
    copy.set_name(unique_name(name + "_initializer", taken));
    taken.insert(copy.name());
    touched_weights.insert(name);
    const std::string out = copy.name();
    init_index[out] = graph.initializer_size();
    *graph.add_initializer() = std::move(copy);
    return out;
  };

  std::map<std::pair<std::string, bool>, QuantizedWeight> cache;  // (weight, transposed) -> quantised
  std::vector<onnx::NodeProto> new_nodes;
  std::unordered_set<int> skip;          // Add nodes folded into a DynamicQuantizeMatMul
  std::unordered_set<std::string> dead;  // value names no longer produced
  std::vector<float> w;

  // com.microsoft Attention (packed QKV weight [D, 3H], bias [3H], optional mask_index) -> DynamicQuantizeLinear on
  // its input + QAttention with int8 weights, as onnxruntime's quantize_dynamic does.
  auto quantize_attention = [&](const onnx::NodeProto& node) -> bool {
    if (node.input_size() < 3 || node.output_size() != 1 || node.input(2).empty()) return false;
    for (int k = 4; k < node.input_size(); ++k) {
      if (!node.input(k).empty()) return false;  // past / attention bias: not in QAttention
    }
    for (const auto& a : node.attribute()) {
      if (a.name() != "num_heads" && a.name() != "unidirectional") return false;
    }
    const onnx::TensorProto* wt = constant(node.input(1));
    const onnx::TensorProto* bt = constant(node.input(2));
    if (!wt || !bt || wt->dims_size() != 2 || !read_floats(*wt, w) || w.empty() || w.size() < opt.min_weight_elements ||
        bt->data_type() != onnx::TensorProto::FLOAT) {
      return false;
    }
    const auto key = std::make_pair(node.input(1), false);
    auto it = cache.find(key);
    if (it == cache.end()) {
      std::string base = node.input(1);
      for (int k = 1;
           taken.count(base + "_quantized") || taken.count(base + "_scale") || taken.count(base + "_zero_point"); ++k) {
        base = node.input(1) + "_" + std::to_string(k);
      }
      QuantizedWeight qw = quantize_weight(w, wt->dims(0), wt->dims(1), false, base, opt, graph);
      taken.insert(qw.q_name);
      taken.insert(qw.scale_name);
      if (!qw.zero_point_name.empty()) taken.insert(qw.zero_point_name);
      report.float_weight_bytes += w.size() * sizeof(float);
      report.int8_weight_bytes += qw.bytes;
      it = cache.emplace(key, qw).first;
    }
    touched_weights.insert(node.input(1));
    const std::string bias = as_initializer(node.input(2), *bt);
    const std::string scope = node.name().empty() ? node.output(0) : node.name();
    onnx::NodeProto dq;
    dq.set_op_type("DynamicQuantizeLinear");
    dq.set_name(unique_name(scope + "_input_quant", taken));
    taken.insert(dq.name());
    dq.add_input(node.input(0));
    for (const char* suffix : {"_quantized", "_scale", "_zero_point"}) {
      const std::string out = unique_name(node.input(0) + suffix, taken);
      taken.insert(out);
      dq.add_output(out);
    }
    onnx::NodeProto q;
    q.set_op_type("QAttention");
    q.set_domain(kMsDomain);
    q.set_name(unique_name(scope + "_quant", taken));
    taken.insert(q.name());
    q.add_input(dq.output(0));
    q.add_input(it->second.q_name);
    q.add_input(bias);
    q.add_input(dq.output(1));
    q.add_input(it->second.scale_name);
    q.add_input(node.input_size() > 3 ? node.input(3) : std::string());
    q.add_input(dq.output(2));
    if (!it->second.zero_point_name.empty()) q.add_input(it->second.zero_point_name);
    for (const auto& a : node.attribute()) *q.add_attribute() = a;
    q.add_output(node.output(0));
    new_nodes.push_back(std::move(dq));
    new_nodes.push_back(std::move(q));
    ++report.quantized_nodes;
    return true;
  };

  // MatMuls reading the same input (attention's query, key and value projections) become one DynamicQuantizeMatMul
  // on the column-concatenated weight followed by a Split: the input is quantised once and the GEMM is wider. With
  // per-column scales this is exactly the same arithmetic as separate nodes.
  std::unordered_map<int, std::vector<onnx::NodeProto>> emit_at;  // node index -> nodes replacing it
  if (opt.per_channel && opt.merge_shared_input && opt.op_types.count("MatMul")) {
    struct Candidate {
      int node = -1, add = -1;
      const onnx::TensorProto* weight = nullptr;
      const onnx::TensorProto* bias = nullptr;
      std::string final_out;
      std::int64_t K = 0, N = 0;
    };
    std::map<std::string, std::vector<Candidate>> by_input;
    std::vector<std::string> input_order;
    for (int i = 0; i < graph.node_size(); ++i) {
      const onnx::NodeProto& node = graph.node(i);
      if (node.op_type() != "MatMul" || !node.domain().empty() || node.input_size() != 2 || node.output_size() != 1 ||
          opt.nodes_to_exclude.count(node.name())) {
        continue;
      }
      const onnx::TensorProto* wt = constant(node.input(1));
      if (!wt || wt->dims_size() != 2 || wt->data_type() != onnx::TensorProto::FLOAT || is_external(*wt)) continue;
      Candidate c;
      c.node = i;
      c.weight = wt;
      c.K = wt->dims(0);
      c.N = wt->dims(1);
      if (c.K * c.N == 0 || static_cast<std::size_t>(c.K * c.N) < opt.min_weight_elements) continue;
      c.final_out = node.output(0);
      const std::string& out = node.output(0);
      if (uses[out] == 1 && consumers[out].size() == 1) {
        const int j = consumers[out][0];
        const onnx::NodeProto& add = graph.node(j);
        if (add.op_type() == "Add" && add.domain().empty() && add.input_size() == 2 && add.output_size() == 1 &&
            (add.input(0) == out) != (add.input(1) == out)) {
          const onnx::TensorProto* b = constant(add.input(0) == out ? add.input(1) : add.input(0));
          if (b && b->data_type() == onnx::TensorProto::FLOAT && b->dims_size() == 1 && b->dims(0) == c.N &&
              !is_external(*b)) {
            c.add = j;
            c.bias = b;
            c.final_out = add.output(0);
          }
        }
      }
      if (!by_input.count(node.input(0))) input_order.push_back(node.input(0));
      by_input[node.input(0)].push_back(c);
    }
    std::int64_t opset = 0;
    for (const auto& o : model.opset_import()) {
      if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
    }
    for (const auto& a : input_order) {
      const auto& group = by_input[a];
      if (group.size() < 2) continue;
      bool ok = true;
      for (const auto& c : group) ok &= c.K == group[0].K && (c.bias != nullptr) == (group[0].bias != nullptr);
      if (!ok) continue;
      const std::int64_t K = group[0].K;
      std::int64_t total = 0;
      for (const auto& c : group) total += c.N;
      std::vector<float> cat(static_cast<std::size_t>(K * total)), bias_cat;
      std::int64_t col = 0;
      std::vector<float> part, bpart;
      for (const auto& c : group) {
        if (!read_floats(*c.weight, part)) {
          ok = false;
          break;
        }
        for (std::int64_t k = 0; k < K; ++k) {
          std::copy(part.begin() + k * c.N, part.begin() + (k + 1) * c.N, cat.begin() + k * total + col);
        }
        if (c.bias) {
          if (!read_floats(*c.bias, bpart)) {
            ok = false;
            break;
          }
          bias_cat.insert(bias_cat.end(), bpart.begin(), bpart.end());
        }
        col += c.N;
      }
      if (!ok) continue;
      const onnx::NodeProto& lead = graph.node(group[0].node);
      std::string base = lead.input(1) + "_merged";
      for (int k = 1;
           taken.count(base + "_quantized") || taken.count(base + "_scale") || taken.count(base + "_zero_point"); ++k) {
        base = lead.input(1) + "_merged_" + std::to_string(k);
      }
      QuantizedWeight qw = quantize_weight(cat, K, total, false, base, opt, graph);
      taken.insert(qw.q_name);
      taken.insert(qw.scale_name);
      if (!qw.zero_point_name.empty()) taken.insert(qw.zero_point_name);
      report.float_weight_bytes += cat.size() * sizeof(float);
      report.int8_weight_bytes += qw.bytes;
      std::string bias_name;
      if (!bias_cat.empty()) {
        onnx::TensorProto bt;
        bt.set_name(unique_name(base + "_bias", taken));
        taken.insert(bt.name());
        bt.set_data_type(onnx::TensorProto::FLOAT);
        bt.add_dims(total);
        bt.set_raw_data(std::string(reinterpret_cast<const char*>(bias_cat.data()), bias_cat.size() * sizeof(float)));
        bias_name = bt.name();
        *graph.add_initializer() = std::move(bt);
      }
      const std::string scope = lead.name().empty() ? lead.output(0) : lead.name();
      onnx::NodeProto q;
      q.set_op_type("DynamicQuantizeMatMul");
      q.set_domain(kMsDomain);
      q.set_name(unique_name(scope + "_merged_quant", taken));
      taken.insert(q.name());
      q.add_input(a);
      q.add_input(qw.q_name);
      q.add_input(qw.scale_name);
      if (!bias_name.empty() || !qw.zero_point_name.empty()) q.add_input(qw.zero_point_name);
      if (!bias_name.empty()) q.add_input(bias_name);
      const std::string merged_out = unique_name(scope + "_merged_output", taken);
      taken.insert(merged_out);
      q.add_output(merged_out);
      onnx::NodeProto split;
      split.set_op_type("Split");
      split.set_name(unique_name(scope + "_merged_split", taken));
      taken.insert(split.name());
      split.add_input(merged_out);
      auto* axis = split.add_attribute();
      axis->set_name("axis");
      axis->set_type(onnx::AttributeProto::INT);
      axis->set_i(-1);
      if (opset >= 13) {
        onnx::TensorProto sizes;
        sizes.set_name(unique_name(scope + "_merged_split_sizes", taken));
        taken.insert(sizes.name());
        sizes.set_data_type(onnx::TensorProto::INT64);
        sizes.add_dims(static_cast<std::int64_t>(group.size()));
        for (const auto& c : group) sizes.add_int64_data(c.N);
        split.add_input(sizes.name());
        *graph.add_initializer() = std::move(sizes);
      } else {
        auto* sp = split.add_attribute();
        sp->set_name("split");
        sp->set_type(onnx::AttributeProto::INTS);
        for (const auto& c : group) sp->add_ints(c.N);
      }
      for (const auto& c : group) {
        split.add_output(c.final_out);
        touched_weights.insert(graph.node(c.node).input(1));
        if (c.add >= 0) {
          skip.insert(c.add);
          dead.insert(graph.node(c.node).output(0));
          ++report.fused_biases;
          const onnx::NodeProto& add = graph.node(c.add);
          touched_weights.insert(add.input(0) == graph.node(c.node).output(0) ? add.input(1) : add.input(0));
        }
        skip.insert(c.node);
        ++report.quantized_nodes;
      }
      report.merged_nodes += group.size() - 1;
      emit_at[group[0].node] = {std::move(q), std::move(split)};
    }
  }

  for (int i = 0; i < graph.node_size(); ++i) {
    if (auto e = emit_at.find(i); e != emit_at.end()) {
      for (auto& n : e->second) new_nodes.push_back(std::move(n));
      continue;
    }
    if (skip.count(i)) continue;
    const onnx::NodeProto& node = graph.node(i);
    if (node.op_type() == "Attention" && node.domain() == kMsDomain && opt.op_types.count("Attention") &&
        !opt.nodes_to_exclude.count(node.name())) {
      if (quantize_attention(node)) continue;
      new_nodes.push_back(node);
      continue;
    }
    const bool is_matmul = node.op_type() == "MatMul" && node.domain().empty();
    const bool is_gemm = node.op_type() == "Gemm" && node.domain().empty();
    if ((!is_matmul && !is_gemm) || !opt.op_types.count(node.op_type()) || opt.nodes_to_exclude.count(node.name()) ||
        node.input_size() < 2 || node.output_size() != 1) {
      new_nodes.push_back(node);
      continue;
    }
    const onnx::TensorProto* wt = constant(node.input(1));
    if (!wt || wt->dims_size() != 2 || !read_floats(*wt, w) || w.empty() || w.size() < opt.min_weight_elements) {
      new_nodes.push_back(node);
      continue;
    }
    bool transposed = false;
    std::string bias;  // name of a constant [N] float bias
    const std::int64_t rows = wt->dims(0), cols = wt->dims(1);
    if (is_gemm) {
      if (attr_int(node, "transA", 0) != 0 || attr_float(node, "alpha", 1.0f) != 1.0f) {
        new_nodes.push_back(node);
        continue;
      }
      transposed = attr_int(node, "transB", 0) != 0;
      const std::int64_t N = transposed ? rows : cols;
      if (node.input_size() >= 3 && !node.input(2).empty()) {
        const onnx::TensorProto* c = constant(node.input(2));
        const bool ok_shape = c && ((c->dims_size() == 1 && c->dims(0) == N) ||
                                    (c->dims_size() == 2 && c->dims(0) == 1 && c->dims(1) == N));
        if (!ok_shape || c->data_type() != onnx::TensorProto::FLOAT || attr_float(node, "beta", 1.0f) != 1.0f) {
          new_nodes.push_back(node);
          continue;
        }
        if (c->dims_size() == 2) {  // DynamicQuantizeMatMul wants a 1-D bias: add a reshaped copy
          onnx::TensorProto flat = *c;
          flat.clear_dims();
          flat.add_dims(N);
          flat.set_name(unique_name(node.input(2) + "_1d", taken));
          taken.insert(flat.name());
          bias = flat.name();
          touched_weights.insert(node.input(2));
          *graph.add_initializer() = std::move(flat);
        } else {
          bias = as_initializer(node.input(2), *c);
        }
      }
    }
    const std::int64_t N = transposed ? rows : cols;
    const std::string out_name = node.output(0);
    std::string final_out = out_name;
    // Fold a following Add of a constant [N] bias (MatMul only; Gemm has its own).
    if (is_matmul && uses[out_name] == 1 && consumers[out_name].size() == 1) {
      const int j = consumers[out_name][0];
      const onnx::NodeProto& add = graph.node(j);
      if (add.op_type() == "Add" && add.domain().empty() && add.input_size() == 2 && add.output_size() == 1) {
        const std::string& other = add.input(0) == out_name ? add.input(1) : add.input(0);
        const onnx::TensorProto* c = constant(other);
        if (c && c->data_type() == onnx::TensorProto::FLOAT && c->dims_size() == 1 && c->dims(0) == N &&
            (add.input(0) == out_name) != (add.input(1) == out_name)) {
          bias = as_initializer(other, *c);
          final_out = add.output(0);
          skip.insert(j);
          dead.insert(out_name);
          ++report.fused_biases;
        }
      }
    }
    const auto key = std::make_pair(node.input(1), transposed);
    auto it = cache.find(key);
    if (it == cache.end()) {
      std::string base = node.input(1) + (transposed ? "_T" : "");
      for (int k = 1;
           taken.count(base + "_quantized") || taken.count(base + "_scale") || taken.count(base + "_zero_point"); ++k) {
        base = node.input(1) + (transposed ? "_T" : "") + "_" + std::to_string(k);
      }
      QuantizedWeight qw = quantize_weight(w, rows, cols, transposed, base, opt, graph);
      taken.insert(qw.q_name);
      taken.insert(qw.scale_name);
      if (!qw.zero_point_name.empty()) taken.insert(qw.zero_point_name);
      report.float_weight_bytes += w.size() * sizeof(float);
      report.int8_weight_bytes += qw.bytes;
      it = cache.emplace(key, qw).first;
    }
    touched_weights.insert(node.input(1));
    onnx::NodeProto q;
    q.set_op_type("DynamicQuantizeMatMul");
    q.set_domain(kMsDomain);
    q.set_name(unique_name((node.name().empty() ? out_name : node.name()) + "_quant", taken));
    taken.insert(q.name());
    q.add_input(node.input(0));
    q.add_input(it->second.q_name);
    q.add_input(it->second.scale_name);
    q.add_input(it->second.zero_point_name);  // b_zero_point: "" for int8 (symmetric, 0), 128 for uint8
    if (!bias.empty())
      q.add_input(bias);
    else if (it->second.zero_point_name.empty())
      q.mutable_input()->RemoveLast();
    q.add_output(final_out);
    new_nodes.push_back(std::move(q));
    ++report.quantized_nodes;
  }
  if (report.quantized_nodes == 0) {
    onnx::checker::check_model(model);
    return report;
  }

  // Drop the Constant nodes whose values were copied or quantised and that nothing reads any more.
  {
    std::unordered_map<std::string, int> uses_new;
    for (const auto& n : new_nodes) {
      for (const auto& in : n.input()) ++uses_new[in];
      for (const auto& a : n.attribute()) {
        if (a.has_g()) count_uses(a.g(), uses_new);
        for (const auto& sg : a.graphs()) count_uses(sg, uses_new);
      }
    }
    for (const auto& o : graph.output()) ++uses_new[o.name()];
    std::vector<onnx::NodeProto> kept;
    kept.reserve(new_nodes.size());
    for (auto& n : new_nodes) {
      if (n.op_type() == "Constant" && n.output_size() == 1 && touched_weights.count(n.output(0)) &&
          !uses_new.count(n.output(0))) {
        dead.insert(n.output(0));
        continue;
      }
      kept.push_back(std::move(n));
    }
    new_nodes = std::move(kept);
  }
  graph.clear_node();
  for (auto& n : new_nodes) *graph.add_node() = std::move(n);

  // Drop value_info of eliminated intermediates and float weights nothing uses any more.
  auto* vi = graph.mutable_value_info();
  for (int k = vi->size() - 1; k >= 0; --k) {
    if (dead.count(vi->Get(k).name())) vi->DeleteSubrange(k, 1);
  }
  std::unordered_map<std::string, int> uses_after;
  count_uses(graph, uses_after);
  auto* inits = graph.mutable_initializer();
  for (int k = inits->size() - 1; k >= 0; --k) {
    const std::string& name = inits->Get(k).name();
    if (touched_weights.count(name) && !uses_after.count(name) && !graph_inputs.count(name)) {
      inits->DeleteSubrange(k, 1);
    }
  }
  bool has_ms = false;
  for (const auto& o : model.opset_import()) has_ms |= o.domain() == kMsDomain;
  if (!has_ms) {
    auto* o = model.add_opset_import();
    o->set_domain(kMsDomain);
    o->set_version(1);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("quantised graph failed the ONNX checker: ") + e.what());
  }
  return report;
}

QuantizeReport quantize_dynamic_int8_file(const std::filesystem::path& in, const std::filesystem::path& out,
                                          const QuantizeOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(in, ec)) throw NotFoundError("ONNX model not found: " + in.string());
  std::string bytes;
  {
    std::ifstream f(in, std::ios::binary);
    if (!f) throw NotFoundError("cannot open ONNX model " + in.string());
    f.seekg(0, std::ios::end);
    bytes.resize(static_cast<std::size_t>(f.tellg()));
    f.seekg(0);
    f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw FileFormatError(in.string() + ": read failed");
  }
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw UnsupportedError(in.string() + ": models over 2 GB must keep their weights as external data");
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw FileFormatError(in.string() + ": not a valid ONNX model (protobuf parse failed)");
  }
  bool external = false;
  for (const auto& t : model.graph().initializer()) external |= is_external(t);
  if (external &&
      std::filesystem::weakly_canonical(in).parent_path() != std::filesystem::weakly_canonical(out).parent_path()) {
    throw UnsupportedError(in.string() + ": has external data; write the quantised model into the same folder");
  }
  QuantizeReport report = quantize_dynamic_int8(model, options);
  std::string serialized;
  if (!model.SerializeToString(&serialized)) {
    throw RuntimeError("cannot serialise the quantised model " + out.string() + " (over 2 GB?)");
  }
  // Write next to the target, then rename (in may equal out).
  std::filesystem::path tmp = out;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(serialized.data(), static_cast<std::streamsize>(serialized.size()));
    if (!f) throw RuntimeError("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) throw RuntimeError("cannot write " + out.string() + ": " + ec.message());
  return report;
}

}  // namespace ortformers::exporters
