#include "export/graph/layers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

// Runs `f` on a float32 view of `t` (converting other float dtypes first).
template <class F>
void with_floats(const Tensor& t, const std::string& name, F&& f) {
  if (t.dtype() == DType::Float32) {
    f(t.data<float>());
    return;
  }
  if (t.dtype() != DType::Float16 && t.dtype() != DType::BFloat16 && t.dtype() != DType::Float64)
    throw UnsupportedError("checkpoint tensor '" + name + "' has dtype " + dtype_name(t.dtype()) +
                           "; a floating-point weight is expected");
  Tensor f32 = t.to(DType::Float32);
  f(f32.data<float>());
}

void check_float(const Tensor& t, const std::string& name) {
  if (t.dtype() != DType::Float32 && t.dtype() != DType::Float16 && t.dtype() != DType::BFloat16 &&
      t.dtype() != DType::Float64)
    throw UnsupportedError("checkpoint tensor '" + name + "' has dtype " + dtype_name(t.dtype()) +
                           "; a floating-point weight is expected");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------- Weights

const Tensor* Weights::lookup(const std::string& full) const {
  if (const auto* t = sd_.find(full)) return t;
  // transformers renames legacy LayerNorm parameters gamma -> weight, beta -> bias on load.
  auto ends_with = [&](const std::string& suf) {
    return full.size() >= suf.size() && full.compare(full.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends_with(".weight")) return sd_.find(full.substr(0, full.size() - 7) + ".gamma");
  if (ends_with(".bias")) return sd_.find(full.substr(0, full.size() - 5) + ".beta");
  return nullptr;
}

const Tensor* Weights::find(const std::string& name) const {
  if (!prefix_.empty())
    if (const auto* t = lookup(prefix_ + "." + name)) return t;
  return lookup(name);
}

const Tensor* Weights::find_head(const std::string& name) const {
  if (!head_prefix_.empty())
    if (const auto* t = lookup(head_prefix_ + "." + name)) return t;
  return lookup(name);
}

std::string Weights::resolve(const std::string& name) const {
  if (!prefix_.empty() && sd_.contains(prefix_ + "." + name)) return prefix_ + "." + name;
  return name;
}

const Tensor& Weights::checked(const Tensor* t, const std::string& name, const Shape& expected) const {
  if (t == nullptr)
    throw NotFoundError("checkpoint " + sd_.source() + " has no tensor '" + name + "'" +
                        (prefix_.empty() ? std::string() : " (nor '" + prefix_ + "." + name + "')") +
                        ", which the model needs");
  if (t->shape() != expected)
    throw InvalidArgument("config/weights mismatch: tensor '" + name + "' in " + sd_.source() + " has shape " +
                          shape_to_string(t->shape()) + " but config.json implies " + shape_to_string(expected));
  return *t;
}

const Tensor& Weights::get(const std::string& name, const Shape& expected) const {
  return checked(find(name), name, expected);
}

const Tensor& Weights::get_head(const std::string& name, const Shape& expected) const {
  return checked(find_head(name), name, expected);
}

// ----------------------------------------------------------------------------------------------- BuildContext

std::string BuildContext::additive_mask() {
  if (!additive_mask_cache.empty()) return additive_mask_cache;
  const std::string s = "/extended_attention_mask";
  auto u = g.node(s, "Unsqueeze", {attention_mask, g.const_i64({1, 2})});
  auto f = g.node(s, "Cast", {u}, {attr("to", kFloat)});
  auto inv = g.node(s, "Sub", {g.scalar_f32(1.0f), f});
  additive_mask_cache = g.node(s, "Mul", {inv, g.scalar_f32(std::numeric_limits<float>::lowest())});
  return additive_mask_cache;
}

std::string BuildContext::mask_int32() {
  if (!mask_i32_cache.empty()) return mask_i32_cache;
  mask_i32_cache = g.node("/attention_mask", "Cast", {attention_mask}, {attr("to", onnx::TensorProto_DataType_INT32)});
  return mask_i32_cache;
}

std::string BuildContext::seq_len_scalar() {
  if (!seq_len_cache.empty()) return seq_len_cache;
  auto shape = g.node("/sequence_length", "Shape", {input_ids});
  seq_len_cache = g.node("/sequence_length", "Gather", {shape, g.scalar_i64(1)}, {attr("axis", 0)});
  return seq_len_cache;
}

std::string BuildContext::stream_shape(const std::string& x3d) {
  if (stream_shape_cache.empty()) stream_shape_cache = g.node("/encoder/stream_shape", "Shape", {x3d});
  return stream_shape_cache;
}

std::string BuildContext::heads_shape(std::int64_t heads, std::int64_t head_dim) {
  auto it = heads_shape_cache.find(heads);
  if (it != heads_shape_cache.end()) return it->second;
  if (stream_shape_cache.empty()) throw RuntimeError("internal: heads_shape before stream_shape");
  const std::string s = "/encoder/heads_shape";
  auto bs = g.node(s, "Slice", {stream_shape_cache, g.const_i64({0}), g.const_i64({2})});
  auto v = g.node(s, "Concat", {bs, g.const_i64({heads, head_dim})}, {attr("axis", 0)});
  heads_shape_cache.emplace(heads, v);
  return v;
}

std::string BuildContext::weight(const std::string& ckpt_name, const Tensor& t) {
  const std::string key = "w:" + ckpt_name;
  if (g.has_initializer_key(key)) return g.initializer_for_key(key);
  if (t.dtype() == DType::Float32) return g.add_borrowed_float_initializer(key, ckpt_name, t.shape(), t.data<float>());
  check_float(t, ckpt_name);  // conversion when written
  return g.add_float_initializer(key, ckpt_name, t.shape(), [t, ckpt_name](float* dst) {
    with_floats(t, ckpt_name,
                [&](const float* src) { std::memcpy(dst, src, static_cast<std::size_t>(t.numel()) * sizeof(float)); });
  });
}

namespace {
// dst[c, r] = src[r, c] for a [rows, cols] matrix, blocked for the cache.
void transpose_into(const float* src, float* dst, std::int64_t rows, std::int64_t cols, std::int64_t dst_stride,
                    std::int64_t dst_col0) {
  constexpr std::int64_t B = 32;
  for (std::int64_t r0 = 0; r0 < rows; r0 += B)
    for (std::int64_t c0 = 0; c0 < cols; c0 += B)
      for (std::int64_t r = r0; r < std::min(rows, r0 + B); ++r)
        for (std::int64_t c = c0; c < std::min(cols, c0 + B); ++c)
          dst[c * dst_stride + dst_col0 + r] = src[r * cols + c];
}
}  // namespace

std::string BuildContext::weight_t(const std::string& ckpt_name, const Tensor& t) {
  const std::string key = "wT:" + ckpt_name;
  if (g.has_initializer_key(key)) return g.initializer_for_key(key);
  const auto rows = t.dim(0), cols = t.dim(1);
  check_float(t, ckpt_name);
  return g.add_float_initializer(key, ckpt_name + ".T", {cols, rows}, [t, ckpt_name, rows, cols](float* dst) {
    with_floats(t, ckpt_name, [&](const float* src) { transpose_into(src, dst, rows, cols, rows, 0); });
  });
}

std::string BuildContext::weight_t_concat(const std::string& key, const std::vector<const Tensor*>& ts) {
  const std::string k = "wTc:" + key;
  if (g.has_initializer_key(k)) return g.initializer_for_key(k);
  const auto in = ts.front()->dim(1);
  std::int64_t total = 0;
  std::vector<Tensor> copies;
  for (const auto* t : ts) {
    check_float(*t, key);
    total += t->dim(0);
    copies.push_back(*t);
  }
  return g.add_float_initializer(k, key, {in, total}, [copies, in, total, key](float* dst) {
    std::int64_t col0 = 0;
    for (const auto& t : copies) {
      with_floats(t, key, [&](const float* src) { transpose_into(src, dst, t.dim(0), in, total, col0); });
      col0 += t.dim(0);
    }
  });
}

std::string BuildContext::bias_concat(const std::string& key, const std::vector<const Tensor*>& ts) {
  const std::string k = "bc:" + key;
  if (g.has_initializer_key(k)) return g.initializer_for_key(k);
  std::vector<Tensor> copies;
  std::int64_t n = 0;
  for (const auto* t : ts) {
    check_float(*t, key);
    copies.push_back(*t);
    n += t->numel();
  }
  return g.add_float_initializer(k, key, {n}, [copies, key](float* dst) {
    for (const auto& t : copies)
      with_floats(t, key, [&](const float* src) {
        std::memcpy(dst, src, static_cast<std::size_t>(t.numel()) * sizeof(float));
        dst += t.numel();
      });
  });
}

// --------------------------------------------------------------------------------------------------- blocks

std::pair<std::string, std::string> linear_parts(BuildContext& ctx, const std::string& scope, const std::string& x,
                                                 const std::string& prefix, std::int64_t in, std::int64_t out,
                                                 bool head) {
  const std::string wn = prefix + ".weight", bn = prefix + ".bias";
  const Tensor& w = head ? ctx.w.get_head(wn, {out, in}) : ctx.w.get(wn, {out, in});
  const Tensor* b = head ? ctx.w.find_head(bn) : ctx.w.find(bn);
  auto wi = ctx.weight_t(head ? wn : ctx.w.resolve(wn), w);
  auto mm = ctx.g.node(scope, "MatMul", {x, wi});
  std::string bi;
  if (b != nullptr) {
    if (b->shape() != Shape{out})
      throw InvalidArgument("config/weights mismatch: tensor '" + bn + "' has shape " + shape_to_string(b->shape()) +
                            " but config.json implies " + shape_to_string({out}));
    bi = ctx.weight(head ? bn : ctx.w.resolve(bn), *b);
  }
  return {mm, bi};
}

std::string linear(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                   std::int64_t in, std::int64_t out, bool head) {
  auto [mm, b] = linear_parts(ctx, scope, x, prefix, in, out, head);
  if (b.empty()) return mm;
  return ctx.g.node(scope, "Add", {b, mm});
}

std::string layer_norm_values(BuildContext& ctx, const std::string& scope, const std::string& x,
                              const std::string& gamma, const std::string& beta, float eps) {
  auto& g = ctx.g;
  if (g.opset() >= 17)
    return g.node(scope, "LayerNormalization", {x, gamma, beta}, {attr("axis", -1), attr("epsilon", eps)});
  auto mean = g.node(scope, "ReduceMean", {x}, {attr("axes", std::vector<std::int64_t>{-1})});
  auto d = g.node(scope, "Sub", {x, mean});
  auto sq = g.node(scope, "Mul", {d, d});
  auto var = g.node(scope, "ReduceMean", {sq}, {attr("axes", std::vector<std::int64_t>{-1})});
  auto ve = g.node(scope, "Add", {var, g.scalar_f32(eps)});
  auto sd = g.node(scope, "Sqrt", {ve});
  auto n = g.node(scope, "Div", {d, sd});
  auto m = g.node(scope, "Mul", {n, gamma});
  return g.node(scope, "Add", {m, beta});
}

std::string layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                       std::int64_t dim, float eps, bool head) {
  const std::string wn = prefix + ".weight", bn = prefix + ".bias";
  const Tensor& w = head ? ctx.w.get_head(wn, {dim}) : ctx.w.get(wn, {dim});
  const Tensor& b = head ? ctx.w.get_head(bn, {dim}) : ctx.w.get(bn, {dim});
  auto gi = ctx.weight(head ? wn : ctx.w.resolve(wn), w);
  auto bi = ctx.weight(head ? bn : ctx.w.resolve(bn), b);
  return layer_norm_values(ctx, scope, x, gi, bi, eps);
}

namespace {
bool is_erf_gelu(const std::string& act) {
  return act == "gelu";
}
bool is_tanh_gelu(const std::string& act) {
  return act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast";
}
}  // namespace

std::string activation(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& act) {
  auto& g = ctx.g;
  if (is_erf_gelu(act)) {
    // 0.5 * x * (1 + erf(x / sqrt(2)))
    auto d = g.node(scope, "Div", {x, g.scalar_f32(1.4142135381698608f)});
    auto e = g.node(scope, "Erf", {d});
    auto a = g.node(scope, "Add", {e, g.scalar_f32(1.0f)});
    auto m = g.node(scope, "Mul", {x, a});
    return g.node(scope, "Mul", {m, g.scalar_f32(0.5f)});
  }
  if (is_tanh_gelu(act)) {
    // (0.5 * x) * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), in the order transformers' NewGELUActivation
    // computes it, which is also the pattern ORT's FastGeluFusion recognises.
    auto half = g.node(scope, "Mul", {x, g.scalar_f32(0.5f)});
    auto x3 = g.node(scope, "Pow", {x, g.scalar_f32(3.0f)});
    auto c = g.node(scope, "Mul", {x3, g.scalar_f32(0.044715f)});
    auto s = g.node(scope, "Add", {x, c});
    auto k = g.node(scope, "Mul", {s, g.scalar_f32(0.7978845608028654f)});
    auto t = g.node(scope, "Tanh", {k});
    auto a = g.node(scope, "Add", {t, g.scalar_f32(1.0f)});
    return g.node(scope, "Mul", {half, a});
  }
  if (act == "relu") return g.node(scope, "Relu", {x});
  if (act == "tanh") return g.node(scope, "Tanh", {x});
  if (act == "silu" || act == "swish") {
    auto s = g.node(scope, "Sigmoid", {x});
    return g.node(scope, "Mul", {x, s});
  }
  throw UnsupportedError("activation '" + act +
                         "' is not supported by the exporter (supported: gelu, gelu_new, gelu_pytorch_tanh, "
                         "gelu_fast, relu, tanh, silu, swish)");
}

std::string bias_activation(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& bias,
                            const std::string& act) {
  auto& g = ctx.g;
  auto y = bias.empty() ? x : g.node(scope, "Add", {bias, x});
  if (ctx.optimize) {
    // com.microsoft Gelu is exact erf-GELU; FastGelu is exactly the tanh formula of gelu_new. The bias stays a
    // separate Add: ORT then runs MatMul + Add as one Gemm (and the int8 pass folds it into DynamicQuantizeMatMul),
    // which measured faster on CPU than BiasGelu's bias input (45 vs 24 ms per run at MiniLM 32x128, 1 thread).
    if (is_erf_gelu(act)) return g.node(scope, "Gelu", {y}, {}, kMsDomain);
    if (is_tanh_gelu(act)) return g.node(scope, "FastGelu", {y}, {}, kMsDomain);
  }
  return activation(ctx, scope, y, act);
}

std::string add_bias_residual_layer_norm(BuildContext& ctx, const std::string& scope, const std::string& x,
                                         const std::string& bias, const std::string& residual,
                                         const std::string& ln_prefix, std::int64_t dim, float eps) {
  // Add + LayerNormalization, also when optimising: ONNX Runtime 1.30's CPU SkipLayerNormalization kernel measured
  // 2.6x slower than Add + LayerNormalization at [4096, 384] and 3x at [4096, 32] (docs/export.md). On token
  // tensors [batch * seq, hidden] ORT's SkipLayerNormFusion (3-D inputs only) leaves the pair alone.
  auto& g = ctx.g;
  const std::string wn = ln_prefix + ".weight", bn = ln_prefix + ".bias";
  auto gi = ctx.weight(ctx.w.resolve(wn), ctx.w.get(wn, {dim}));
  auto bi = ctx.weight(ctx.w.resolve(bn), ctx.w.get(bn, {dim}));
  auto y = bias.empty() ? x : g.node(scope, "Add", {bias, x});
  auto r = g.node(scope, "Add", {y, residual});
  return layer_norm_values(ctx, scope + "/LayerNorm", r, gi, bi, eps);
}

std::string embedding(BuildContext& ctx, const std::string& scope, const std::string& ids, const std::string& name,
                      std::int64_t rows, std::int64_t dim) {
  const Tensor& t = ctx.w.get(name, {rows, dim});
  auto init = ctx.weight(ctx.w.resolve(name), t);
  return ctx.g.node(scope, "Gather", {init, ids});
}

std::string range_positions(BuildContext& ctx, const std::string& scope) {
  return ctx.g.node(scope, "Range", {ctx.g.scalar_i64(0), ctx.seq_len_scalar(), ctx.g.scalar_i64(1)});
}

std::string padded_positions(BuildContext& ctx, const std::string& scope, const std::string& ids,
                             std::int64_t padding_idx) {
  auto& g = ctx.g;
  auto eq = g.node(scope, "Equal", {ids, g.scalar_i64(padding_idx)});
  auto ne = g.node(scope, "Not", {eq});
  auto m = g.node(scope, "Cast", {ne}, {attr("to", onnx::TensorProto_DataType_INT64)});
  auto cs = g.node(scope, "CumSum", {m, g.scalar_i64(1)});
  auto masked = g.node(scope, "Mul", {cs, m});
  return g.node(scope, "Add", {masked, g.scalar_i64(padding_idx)});
}

std::string self_attention(BuildContext& ctx, const std::string& scope, const std::string& x, const LayerNames& n,
                           const LayerDims& d, const std::string& position_bias) {
  auto& g = ctx.g;
  auto shape3 = ctx.stream_shape(x);
  auto x2 = g.node(scope, "Reshape", {x, g.const_i64({-1, d.hidden})});
  return g.node(scope, "Reshape", {self_attention_tokens(ctx, scope, x2, n, d, position_bias), shape3});
}

std::string self_attention_tokens(BuildContext& ctx, const std::string& scope, const std::string& x,
                                  const LayerNames& n, const LayerDims& d, const std::string& position_bias) {
  auto& g = ctx.g;
  const auto H = d.heads, hidden = d.hidden;
  if (hidden % H != 0)
    throw InvalidArgument("config.json: hidden size " + std::to_string(hidden) +
                          " is not a multiple of the number of attention heads " + std::to_string(H));
  const auto D = hidden / H;
  if (ctx.optimize) {
    std::vector<const Tensor*> ws, bs;
    bool all_biases = true;
    for (const auto* p : {&n.query, &n.key, &n.value}) {
      ws.push_back(&ctx.w.get(*p + ".weight", {hidden, hidden}));
      const Tensor* b = ctx.w.find(*p + ".bias");
      if (b != nullptr && b->shape() != Shape{hidden})
        throw InvalidArgument("config/weights mismatch: tensor '" + *p + ".bias' has shape " +
                              shape_to_string(b->shape()) + " but config.json implies " + shape_to_string({hidden}));
      all_biases = all_biases && b != nullptr;
      bs.push_back(b);
    }
    auto wq = ctx.weight_t_concat(ctx.w.resolve(n.query + ".weight") + "+key+value", ws);
    std::string bq;
    if (all_biases) {
      bq = ctx.bias_concat(ctx.w.resolve(n.query + ".bias") + "+key+value", bs);
    } else {
      // Projections without bias (ViT's qkv_bias false): the packed bias is zero where a tensor is absent.
      std::vector<Tensor> copies;
      for (const auto* b : bs) copies.push_back(b != nullptr ? *b : Tensor());
      const std::string key = ctx.w.resolve(n.query + ".bias") + "+key+value";
      bq = g.add_float_initializer("bcz:" + key, key, {3 * hidden}, [copies, hidden, key](float* dst) {
        for (const auto& t : copies) {
          if (t.defined())
            with_floats(t, key, [&](const float* src) {
              std::memcpy(dst, src, static_cast<std::size_t>(hidden) * sizeof(float));
            });
          else
            std::fill(dst, dst + hidden, 0.0f);
          dst += hidden;
        }
      });
    }
    // mask_index is left out when the graph has no attention mask (vision / audio models attend to every position).
    // The contrib op takes [batch, seq, hidden].
    auto x3 = g.node(scope, "Reshape", {x, ctx.stream_shape_cache});
    std::vector<std::string> ins{x3, wq, bq, ctx.attention_mask.empty() ? std::string() : ctx.mask_int32()};
    if (!position_bias.empty()) {
      ins.push_back("");  // past
      ins.push_back(position_bias);
    }
    while (!ins.empty() && ins.back().empty()) ins.pop_back();
    auto att = g.node(scope, "Attention", ins, {attr("num_heads", H)}, kMsDomain);
    return g.node(scope, "Reshape", {att, g.const_i64({-1, hidden})});
  }
  if (ctx.stream_shape_cache.empty()) throw RuntimeError("internal: self_attention_tokens before stream_shape");
  auto heads_shape = ctx.heads_shape(H, D);
  auto proj = [&](const std::string& prefix, const std::string& name, std::vector<std::int64_t> perm) {
    const std::string s = scope + "/" + name;
    auto y = linear(ctx, s, x, prefix, hidden, hidden);
    auto r = g.node(s, "Reshape", {y, heads_shape});
    return g.node(s, "Transpose", {r}, {attr("perm", std::move(perm))});
  };
  auto q = proj(n.query, "query", {0, 2, 1, 3});
  auto k = proj(n.key, "key", {0, 2, 3, 1});
  auto v = proj(n.value, "value", {0, 2, 1, 3});
  auto scores = g.node(scope, "MatMul", {q, k});
  scores = g.node(scope, "Div", {scores, g.scalar_f32(std::sqrt(static_cast<float>(D)))});
  if (!position_bias.empty()) scores = g.node(scope, "Add", {scores, position_bias});
  if (!ctx.attention_mask.empty()) scores = g.node(scope, "Add", {scores, ctx.additive_mask()});
  auto probs = g.node(scope, "Softmax", {scores}, {attr("axis", -1)});
  auto c = g.node(scope, "MatMul", {probs, v});
  auto t = g.node(scope, "Transpose", {c}, {attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
  return g.node(scope, "Reshape", {t, g.const_i64({-1, hidden})});
}

std::string transformer_layer(BuildContext& ctx, const std::string& scope, const std::string& x, const LayerNames& n,
                              const LayerDims& d, const std::string& position_bias) {
  auto& g = ctx.g;
  auto shape3 = ctx.stream_shape(x);
  auto x2 = g.node(scope, "Reshape", {x, g.const_i64({-1, d.hidden})});
  auto ctxv = self_attention_tokens(ctx, scope + "/attention", x2, n, d, position_bias);
  auto [ao, ab] = linear_parts(ctx, scope + "/attention/output", ctxv, n.attention_output, d.hidden, d.hidden);
  auto h = add_bias_residual_layer_norm(ctx, scope + "/attention/output", ao, ab, x2, n.attention_layer_norm, d.hidden,
                                        d.eps);
  auto [im, ib] = linear_parts(ctx, scope + "/intermediate", h, n.intermediate, d.hidden, d.intermediate);
  auto a = bias_activation(ctx, scope + "/intermediate", im, ib, d.act);
  auto [om, ob] = linear_parts(ctx, scope + "/output", a, n.output, d.intermediate, d.hidden);
  auto out = add_bias_residual_layer_norm(ctx, scope + "/output", om, ob, h, n.output_layer_norm, d.hidden, d.eps);
  return g.node(scope, "Reshape", {out, shape3});
}

std::string pre_ln_transformer_layer(BuildContext& ctx, const std::string& scope, const std::string& x,
                                     const LayerNames& n, const LayerDims& d,
                                     const std::function<std::string(const std::string& normed)>& position_bias) {
  auto& g = ctx.g;
  auto shape3 = ctx.stream_shape(x);
  auto x2 = g.node(scope, "Reshape", {x, g.const_i64({-1, d.hidden})});
  auto a = layer_norm(ctx, scope + "/attention_layer_norm", x2, n.attention_layer_norm, d.hidden, d.eps);
  const std::string bias = position_bias ? position_bias(g.node(scope, "Reshape", {a, shape3})) : std::string();
  auto ctxv = self_attention_tokens(ctx, scope + "/attention", a, n, d, bias);
  auto [ao, ab] = linear_parts(ctx, scope + "/attention/output", ctxv, n.attention_output, d.hidden, d.hidden);
  // Add + LayerNormalization rather than SkipLayerNormalization (see add_bias_residual_layer_norm).
  auto y = ab.empty() ? ao : g.node(scope + "/attention/output", "Add", {ab, ao});
  auto h = g.node(scope + "/attention", "Add", {y, x2});
  auto f = layer_norm(ctx, scope + "/output_layer_norm", h, n.output_layer_norm, d.hidden, d.eps);
  auto [im, ib] = linear_parts(ctx, scope + "/intermediate", f, n.intermediate, d.hidden, d.intermediate);
  auto act = bias_activation(ctx, scope + "/intermediate", im, ib, d.act);
  auto o = linear(ctx, scope + "/output", act, n.output, d.intermediate, d.hidden);
  return g.node(scope, "Reshape", {g.node(scope + "/output", "Add", {o, h}), shape3});
}

std::string first_token(BuildContext& ctx, const std::string& scope, const std::string& x) {
  return ctx.g.node(scope, "Gather", {x, ctx.g.scalar_i64(0)}, {attr("axis", 1)});
}

std::string tied_decoder(BuildContext& ctx, const std::string& scope, const std::string& x,
                         const std::string& embedding_init, const std::string& bias_init) {
  auto& g = ctx.g;
  auto wt = g.node(scope, "Transpose", {embedding_init}, {attr("perm", std::vector<std::int64_t>{1, 0})});
  auto mm = g.node(scope, "MatMul", {x, wt});
  if (bias_init.empty()) return mm;
  return g.node(scope, "Add", {mm, bias_init});
}

std::pair<std::string, std::string> split_start_end(BuildContext& ctx, const std::string& scope,
                                                    const std::string& logits) {
  auto& g = ctx.g;
  auto parts = g.node_n(scope, "Split", {logits}, 2, {attr("axis", -1)});
  auto s = g.node(scope, "Squeeze", {parts[0], g.const_i64({-1})});
  auto e = g.node(scope, "Squeeze", {parts[1], g.const_i64({-1})});
  return {s, e};
}

}  // namespace ortformers::exporters
