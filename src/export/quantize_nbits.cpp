// Weight-only 4- and 8-bit quantisation (see quantize.hpp): MatMul with a constant float32 [K, N] weight ->
// com.microsoft MatMulNBits, written as onnxruntime's MatMulNBitsQuantizer (DefaultWeightOnlyQuantizer: 4 bits since
// ORT 1.17, 8 bits since 1.22) writes it:
//   B            uint8 [N, blocks, block_size * bits / 8]: column n, block b. 4 bits: byte i holds
//                k = b * block_size + 2i (low nibble) and k + 1 (high nibble); 8 bits: byte i holds k = b * block_size
//                + i. K is padded with zeros to a whole block
//   scales       float32 [N * blocks]
//   zero_points  uint8 (asymmetric only): 4 bits: [N * ceil(blocks / 2)], two blocks per byte, even block in the low
//                nibble; 8 bits: [N * blocks]
//   attributes   K, N, bits, block_size
// Per block (MLAS q4_dq.cpp), with M = 2^bits - 1 (15 or 255) and mid = 2^(bits - 1) (8 or 128): symmetric:
// scale = v / -mid for the v of largest magnitude, zero point mid; asymmetric: range [min(v, 0), max(v, 0)],
// scale = range / M, zero point round(-min / scale) in [0, M]; q = clamp(round(v / scale + zero_point), 0, M)
// (dequantised: (q - zero_point) * scale).
#include <onnx/checker.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "ortformers/core/error.hpp"
#include "ortformers/export/quantize.hpp"

namespace ortformers::exporters {

namespace {

constexpr const char* kMsDomain = "com.microsoft";

bool float_weight(const onnx::TensorProto& t, std::vector<float>& out) {
  if (t.data_type() != onnx::TensorProto_DataType_FLOAT || t.dims_size() != 2) return false;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) return false;
  const auto n = static_cast<std::size_t>(t.dims(0) * t.dims(1));
  if (!t.raw_data().empty()) {
    if (t.raw_data().size() != n * sizeof(float)) return false;
    out.resize(n);
    std::memcpy(out.data(), t.raw_data().data(), n * sizeof(float));
    return true;
  }
  if (static_cast<std::size_t>(t.float_data_size()) != n) return false;
  out.assign(t.float_data().begin(), t.float_data().end());
  return true;
}

struct Blocks {
  std::vector<std::uint8_t> packed, zero_points;
  std::vector<float> scales;
};

// w is [K, N] row-major; bits 4 or 8.
Blocks quantize_blocks(const std::vector<float>& w, std::int64_t K, std::int64_t N, std::int64_t block, int bits,
                       bool symmetric) {
  const bool nibbles = bits == 4;
  const std::int64_t blocks = (K + block - 1) / block, blob = nibbles ? block / 2 : block,
                     zp_per_col = nibbles ? (blocks + 1) / 2 : blocks;
  const float qmax = nibbles ? 15.0f : 255.0f, mid = nibbles ? 8.0f : 128.0f;
  Blocks out;
  out.packed.assign(static_cast<std::size_t>(N * blocks * blob), 0);
  out.scales.assign(static_cast<std::size_t>(N * blocks), 0.0f);
  if (!symmetric) out.zero_points.assign(static_cast<std::size_t>(N * zp_per_col), 0);
  std::vector<std::uint8_t> zps(static_cast<std::size_t>(blocks));
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t k0 = b * block, k1 = std::min(K, k0 + block);
      float lo = 0.0f, hi = 0.0f, big = 0.0f;
      for (std::int64_t k = k0; k < k1; ++k) {
        const float v = w[static_cast<std::size_t>(k * N + n)];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        if (std::fabs(v) > std::fabs(big)) big = v;
      }
      float scale = 0.0f;
      auto zp = static_cast<std::uint8_t>(mid);
      if (symmetric) {
        scale = big / -mid;
      } else {
        scale = (hi - lo) / qmax;
        const float zf = scale != 0.0f ? -lo / scale : 0.0f;
        zp = static_cast<std::uint8_t>(std::clamp(std::round(zf), 0.0f, qmax));
      }
      const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
      out.scales[static_cast<std::size_t>(n * blocks + b)] = scale;
      zps[static_cast<std::size_t>(b)] = zp;
      std::uint8_t* dst = out.packed.data() + (n * blocks + b) * blob;
      for (std::int64_t i = 0; i < block; ++i) {
        const std::int64_t k = k0 + i;
        const float v = k < K ? w[static_cast<std::size_t>(k * N + n)] : 0.0f;
        const auto q = static_cast<std::uint8_t>(std::clamp(std::round(v * inv + zp), 0.0f, qmax));
        if (nibbles)
          dst[i / 2] |= static_cast<std::uint8_t>((i % 2 == 0) ? q : (q << 4));
        else
          dst[i] = q;
      }
    }
    if (!symmetric)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::uint8_t z = zps[static_cast<std::size_t>(b)];
        if (nibbles)
          out.zero_points[static_cast<std::size_t>(n * zp_per_col + b / 2)] |=
              static_cast<std::uint8_t>(b % 2 == 0 ? z : z << 4);
        else
          out.zero_points[static_cast<std::size_t>(n * zp_per_col + b)] = z;
      }
  }
  return out;
}

}  // namespace

std::optional<QuantizeNBitsOptions> nbits_preset(const std::string& name) {
  // accuracy_level 4 (int8 compute), as onnxruntime-genai's builder writes int4 models for CPU: 3.4x faster
  // decoding than float32 compute on the benchmark Llama (docs/generation.md "Decoding speed").
  QuantizeNBitsOptions o;
  o.accuracy_level = 4;
  if (name == "int4") return o;
  if (name == "int4_asym") {
    o.symmetric = false;
    return o;
  }
  if (name == "int8_block") {  // llama.cpp's Q8_0: 8-bit weights and activations, one scale per 32 values
    o.bits = 8;
    return o;
  }
  return std::nullopt;
}

std::vector<std::string> nbits_preset_names() {
  return {"int4", "int4_asym", "int8_block"};
}

std::string describe(const QuantizeNBitsOptions& o) {
  return "int" + std::to_string(o.bits) + " weights (MatMulNBits), block size " + std::to_string(o.block_size) + ", " +
         (o.symmetric ? "symmetric" : "asymmetric (zero points)") +
         (o.accuracy_level != 0 ? ", accuracy_level " + std::to_string(o.accuracy_level) : std::string());
}

QuantizeReport quantize_matmul_nbits(onnx::ModelProto& model, const QuantizeNBitsOptions& opt) {
  if (opt.bits != 4 && opt.bits != 8)
    throw InvalidArgument("MatMulNBits bits must be 4 or 8, got " + std::to_string(opt.bits));
  if (opt.block_size < 16 || (opt.block_size & (opt.block_size - 1)) != 0)
    throw InvalidArgument("MatMulNBits block_size must be a power of two >= 16, got " + std::to_string(opt.block_size));
  auto* g = model.mutable_graph();
  std::unordered_map<std::string, int> init_index;
  for (int i = 0; i < g->initializer_size(); ++i) init_index[g->initializer(i).name()] = i;
  std::unordered_map<std::string, int> uses;
  for (const auto& n : g->node())
    for (const auto& i : n.input()) ++uses[i];
  std::unordered_set<std::string> taken;
  for (const auto& t : g->initializer()) taken.insert(t.name());
  for (const auto& n : g->node()) taken.insert(n.name());

  QuantizeReport report;
  std::unordered_set<std::string> replaced;                        // float weights no longer used
  std::unordered_map<std::string, std::vector<std::string>> done;  // weight -> its B, scales, zero points
  for (auto& node : *g->mutable_node()) {
    if (node.op_type() != "MatMul" || !node.domain().empty() || node.input_size() != 2) continue;
    if (opt.nodes_to_exclude.count(node.name()) != 0) continue;
    const std::string wname = node.input(1);
    auto it = init_index.find(wname);
    if (it == init_index.end()) continue;
    const onnx::TensorProto& t = g->initializer(it->second);
    const std::int64_t K = t.dims_size() == 2 ? t.dims(0) : 0, N = t.dims_size() == 2 ? t.dims(1) : 0;
    auto names = done.find(wname);
    if (names == done.end()) {
      std::vector<float> w;
      if (!float_weight(t, w)) continue;
      const Blocks q = quantize_blocks(w, K, N, opt.block_size, static_cast<int>(opt.bits), opt.symmetric);
      const std::int64_t blocks = (K + opt.block_size - 1) / opt.block_size;
      std::vector<std::string> ins;
      auto add = [&](const std::string& suffix, int type, const std::vector<std::int64_t>& dims, const void* data,
                     std::size_t bytes) {
        std::string name = wname + suffix;
        while (taken.count(name) != 0) name += "_";
        taken.insert(name);
        auto* init = g->add_initializer();
        init->set_name(name);
        init->set_data_type(type);
        for (auto d : dims) init->add_dims(d);
        init->set_raw_data(std::string(static_cast<const char*>(data), bytes));
        ins.push_back(name);
        report.int8_weight_bytes += bytes;
      };
      add(opt.bits == 4 ? "_Q4" : "_Q8", onnx::TensorProto_DataType_UINT8, {N, blocks, opt.block_size * opt.bits / 8},
          q.packed.data(), q.packed.size());
      add("_scales", onnx::TensorProto_DataType_FLOAT, {N * blocks}, q.scales.data(), q.scales.size() * sizeof(float));
      if (!opt.symmetric)
        add("_zero_points", onnx::TensorProto_DataType_UINT8, {static_cast<std::int64_t>(q.zero_points.size())},
            q.zero_points.data(), q.zero_points.size());
      report.float_weight_bytes += w.size() * sizeof(float);
      names = done.emplace(wname, ins).first;
    }
    const std::string a = node.input(0);
    node.set_op_type("MatMulNBits");
    node.set_domain(kMsDomain);
    node.clear_input();
    node.add_input(a);
    for (const auto& n : names->second) node.add_input(n);
    auto set_int = [&](const char* name, std::int64_t v) {
      auto* at = node.add_attribute();
      at->set_name(name);
      at->set_type(onnx::AttributeProto::INT);
      at->set_i(v);
    };
    set_int("K", K);
    set_int("N", N);
    set_int("bits", opt.bits);
    set_int("block_size", opt.block_size);
    if (opt.accuracy_level != 0) set_int("accuracy_level", opt.accuracy_level);
    ++report.quantized_nodes;
    if (--uses[wname] == 0) replaced.insert(wname);
  }
  // Drop the float weights nothing reads any more.
  auto* inits = g->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (replaced.count(inits->Get(i).name()) != 0) inits->DeleteSubrange(i, 1);
  bool has_ms = false;
  for (const auto& o : model.opset_import()) has_ms = has_ms || o.domain() == kMsDomain;
  if (!has_ms) {
    auto* o = model.add_opset_import();
    o->set_domain(kMsDomain);
    o->set_version(1);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw RuntimeError("int" + std::to_string(opt.bits) + "-quantised graph failed the ONNX checker: " + e.what());
  }
  return report;
}

}  // namespace ortformers::exporters
