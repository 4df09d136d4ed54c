#include "export/graph/vision_layers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

using I64s = std::vector<std::int64_t>;

const Tensor& get_weight(BuildContext& ctx, const std::string& name, const Shape& shape, bool head) {
  return head ? ctx.w.get_head(name, shape) : ctx.w.get(name, shape);
}

std::string weight_init(BuildContext& ctx, const std::string& name, const Shape& shape, bool head) {
  const Tensor& t = get_weight(ctx, name, shape, head);
  return ctx.weight(head ? name : ctx.w.resolve(name), t);
}

std::vector<float> floats_of(const Tensor& t) {
  if (t.dtype() == DType::Float32) {
    const float* p = t.data<float>();
    return {p, p + t.numel()};
  }
  Tensor f = t.to(DType::Float32);
  const float* p = f.data<float>();
  return {p, p + f.numel()};
}

}  // namespace

std::string conv2d(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                   const Conv2dSpec& s, bool head) {
  if (s.groups <= 0 || s.in % s.groups != 0 || s.out % s.groups != 0)
    throw InvalidArgument("convolution '" + prefix + "': channels " + std::to_string(s.in) + " -> " +
                          std::to_string(s.out) + " are not divisible by groups " + std::to_string(s.groups));
  std::vector<std::string> inputs{
      x, weight_init(ctx, prefix + ".weight", {s.out, s.in / s.groups, s.kernel, s.kernel}, head)};
  if (s.bias) inputs.push_back(weight_init(ctx, prefix + ".bias", {s.out}, head));
  return ctx.g.node(
      scope, "Conv", inputs,
      {attr("kernel_shape", I64s{s.kernel, s.kernel}), attr("strides", I64s{s.stride, s.stride}),
       attr("pads", I64s{s.pad, s.pad, s.pad, s.pad}), attr("dilations", I64s{1, 1}), attr("group", s.groups)});
}

std::string batch_norm_2d(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                          std::int64_t channels, float eps, bool head) {
  const auto gamma = floats_of(get_weight(ctx, prefix + ".weight", {channels}, head));
  const auto beta = floats_of(get_weight(ctx, prefix + ".bias", {channels}, head));
  const auto mean = floats_of(get_weight(ctx, prefix + ".running_mean", {channels}, head));
  const auto var = floats_of(get_weight(ctx, prefix + ".running_var", {channels}, head));
  std::vector<float> scale(static_cast<std::size_t>(channels)), shift(scale.size());
  for (std::size_t c = 0; c < scale.size(); ++c) {
    const double s = static_cast<double>(gamma[c]) / std::sqrt(static_cast<double>(var[c]) + eps);
    scale[c] = static_cast<float>(s);
    shift[c] = static_cast<float>(static_cast<double>(beta[c]) - static_cast<double>(mean[c]) * s);
  }
  std::string base = prefix;
  if (!head) {
    base = ctx.w.resolve(prefix + ".weight");
    base.resize(base.size() - 7);  // drop ".weight"
  }
  auto& g = ctx.g;
  auto scale_i = g.add_float_initializer("bn_scale:" + base, base + ".folded_scale", {1, channels, 1, 1},
                                         [scale](float* dst) { std::copy(scale.begin(), scale.end(), dst); });
  auto shift_i = g.add_float_initializer("bn_shift:" + base, base + ".folded_shift", {1, channels, 1, 1},
                                         [shift](float* dst) { std::copy(shift.begin(), shift.end(), dst); });
  return g.node(scope, "Add", {g.node(scope, "Mul", {x, scale_i}), shift_i});
}

std::string dim_of(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t axis) {
  auto& g = ctx.g;
  auto shape = g.node(scope, "Shape", {x});
  return g.node(scope, "Gather", {shape, g.const_i64({axis})}, {attr("axis", 0)});
}

std::string nchw_to_tokens(BuildContext& ctx, const std::string& scope, const std::string& x) {
  auto& g = ctx.g;
  // [B, C, H, W] -> [B, C, H*W] -> [B, H*W, C]
  auto flat = g.node(scope, "Reshape", {x, g.const_i64({0, 0, -1})});
  return g.node(scope, "Transpose", {flat}, {attr("perm", I64s{0, 2, 1})});
}

std::string tokens_to_nchw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& h,
                           const std::string& w, std::int64_t channels) {
  auto& g = ctx.g;
  auto shape = g.node(scope, "Concat", {g.const_i64({0}), h, w, g.const_i64({channels})}, {attr("axis", 0)});
  auto bhwc = g.node(scope, "Reshape", {x, shape});
  return g.node(scope, "Transpose", {bhwc}, {attr("perm", I64s{0, 3, 1, 2})});
}

std::string resize_bilinear_like(BuildContext& ctx, const std::string& scope, const std::string& x,
                                 const std::string& like) {
  auto& g = ctx.g;
  auto nc = g.node(scope, "Slice", {g.node(scope, "Shape", {x}), g.const_i64({0}), g.const_i64({2})});
  auto hw = g.node(scope, "Slice", {g.node(scope, "Shape", {like}), g.const_i64({2}), g.const_i64({4})});
  auto sizes = g.node(scope, "Concat", {nc, hw}, {attr("axis", 0)});
  return g.node(
      scope, "Resize", {x, "", "", sizes},
      {attr("mode", std::string("linear")), attr("coordinate_transformation_mode", std::string("pytorch_half_pixel"))});
}

std::string upsample_nearest(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t factor) {
  auto& g = ctx.g;
  const float f = static_cast<float>(factor);
  // F.interpolate(scale_factor=f, mode="nearest"): src = floor(dst / f), which is "asymmetric" + "floor".
  return g.node(
      scope, "Resize", {x, "", g.const_f32({1.0f, 1.0f, f, f}, {4})},
      {attr("mode", std::string("nearest")), attr("coordinate_transformation_mode", std::string("asymmetric")),
       attr("nearest_mode", std::string("floor"))});
}

std::string pixel_shuffle(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t r) {
  return ctx.g.node(scope, "DepthToSpace", {x}, {attr("blocksize", r), attr("mode", std::string("CRD"))});
}

std::string leaky_relu(BuildContext& ctx, const std::string& scope, const std::string& x, float alpha) {
  return ctx.g.node(scope, "LeakyRelu", {x}, {attr("alpha", alpha)});
}

std::string pad_to_multiple(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t multiple,
                            const std::string& mode) {
  auto& g = ctx.g;
  auto hw = g.node(scope, "Slice", {g.node(scope, "Shape", {x}), g.const_i64({2}), g.const_i64({4})});
  auto m = g.const_i64({multiple});
  // (m - n % m) % m for n = H, W
  auto pad = g.node(scope, "Mod", {g.node(scope, "Sub", {m, g.node(scope, "Mod", {hw, m})}), m});
  // pads: [0, 0, 0, 0, 0, 0, pad_h, pad_w] (begins of N, C, H, W, then ends)
  auto pads = g.node(scope, "Concat", {g.const_i64({0, 0, 0, 0, 0, 0}), pad}, {attr("axis", 0)});
  return g.node(scope, "Pad", {x, pads}, {attr("mode", mode)});
}

std::string crop_hw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& h,
                    const std::string& w) {
  auto& g = ctx.g;
  auto ends = g.node(scope, "Concat", {h, w}, {attr("axis", 0)});
  return g.node(scope, "Slice", {x, g.const_i64({0, 0}), ends, g.const_i64({2, 3})});
}

std::string roll_hw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& shift,
                    bool forward) {
  auto& g = ctx.g;
  const auto big = g.const_i64({std::numeric_limits<std::int64_t>::max()});
  const auto zero = g.const_i64({0});
  std::string y = x;
  for (std::int64_t axis : {1, 2}) {
    const auto ax = g.const_i64({axis});
    // roll by -s: x[s:] ++ x[:s]; roll by +s: x[n-s:] ++ x[:n-s]
    std::string cut = shift;
    if (!forward) cut = g.node(scope, "Sub", {dim_of(ctx, scope, y, axis), shift});
    auto tail = g.node(scope, "Slice", {y, cut, big, ax});
    auto head = g.node(scope, "Slice", {y, zero, cut, ax});
    y = g.node(scope, "Concat", {tail, head}, {attr("axis", axis)});
  }
  return y;
}

std::string window_partition(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t ws,
                             std::int64_t channels) {
  auto& g = ctx.g;
  auto b = dim_of(ctx, scope, x, 0);
  auto h = dim_of(ctx, scope, x, 1);
  auto w = dim_of(ctx, scope, x, 2);
  auto wsc = g.const_i64({ws});
  auto nh = g.node(scope, "Div", {h, wsc});
  auto nw = g.node(scope, "Div", {w, wsc});
  // [B, nH, ws, nW, ws, C] -> [B, nH, nW, ws, ws, C] -> [B * nW, ws * ws, C]
  auto s6 = g.node(scope, "Concat", {b, nh, wsc, nw, wsc, g.const_i64({channels})}, {attr("axis", 0)});
  auto r = g.node(scope, "Reshape", {x, s6});
  auto t = g.node(scope, "Transpose", {r}, {attr("perm", I64s{0, 1, 3, 2, 4, 5})});
  return g.node(scope, "Reshape", {t, g.const_i64({-1, ws * ws, channels})});
}

std::string window_reverse(BuildContext& ctx, const std::string& scope, const std::string& windows, std::int64_t ws,
                           const std::string& h, const std::string& w, std::int64_t channels) {
  auto& g = ctx.g;
  auto wsc = g.const_i64({ws});
  auto nh = g.node(scope, "Div", {h, wsc});
  auto nw = g.node(scope, "Div", {w, wsc});
  // [B * nW, ws * ws, C] -> [B, nH, nW, ws, ws, C] -> [B, nH, ws, nW, ws, C] -> [B, H, W, C]
  auto s6 = g.node(scope, "Concat", {g.const_i64({-1}), nh, nw, wsc, wsc, g.const_i64({channels})}, {attr("axis", 0)});
  auto r = g.node(scope, "Reshape", {windows, s6});
  auto t = g.node(scope, "Transpose", {r}, {attr("perm", I64s{0, 1, 3, 2, 4, 5})});
  auto s4 = g.node(scope, "Concat", {g.const_i64({-1}), h, w, g.const_i64({channels})}, {attr("axis", 0)});
  return g.node(scope, "Reshape", {t, s4});
}

}  // namespace ortformers::exporters
