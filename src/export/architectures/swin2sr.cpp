// Swin2SR (transformers' modeling_swin2sr.py): the image is reflect-padded to a multiple of window_size and
// normalised ((x - mean) * img_range, mean = the fixed RGB mean for 3 channels) inside the model, then
// first_convolution, the patch embeddings (+ LayerNorm), residual stages of Swin-v2 layers (window attention with
// cosine similarity scaled by the clamped logit_scale, the continuous position bias MLP on the log-spaced relative
// coordinate table -> 16 * sigmoid, shifted windows with the shift attention mask, res-post-norm), the stage
// convolution and patch projection + residual, the final LayerNorm, conv_after_body + residual; the
// super-resolution head upsamples (pixelshuffle, pixelshuffledirect, nearest+conv, or none), denormalises and crops
// to height * upscale x width * upscale.
//
// Sizes come from the graph (dynamic batch / height / width): the shift mask and the roll amounts are computed
// in-graph from the padded size; the relative coordinate table and relative position index depend only on
// window_size and are computed here at export time.
#include <cmath>

#include "export/architectures/architecture.hpp"
#include "export/architectures/common.hpp"
#include "export/graph/vision_layers.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr float kDefaultLnEps = 1e-5f;     // nn.LayerNorm default (patch embeddings LayerNorm)
constexpr std::int64_t kNumFeatures = 64;  // Swin2SRForImageSuperResolution's num_features
constexpr std::int64_t kCpbHidden = 512;   // continuous_position_bias_mlp hidden size
using I64s = std::vector<std::int64_t>;

struct Swin2SRDims {
  std::int64_t C = 0, window = 8, num_channels = 3, upscale = 2, patch = 1, image_size = 64;
  I64s depths, heads;
  double mlp_ratio = 2.0;
  float img_range = 1.0f, eps = 1e-5f;
  std::string act, upsampler, resi_connection;
  bool shifts = true;  // whether odd layers shift (false when image_size // patch_size == window_size)
};

Swin2SRDims read_dims(const config::PretrainedConfig& c) {
  Swin2SRDims d;
  d.C = c.require<std::int64_t>("embed_dim");
  d.window = c.get<std::int64_t>("window_size", 8);
  d.num_channels = c.get<std::int64_t>("num_channels", 3);
  d.upscale = c.get<std::int64_t>("upscale", 2);
  d.patch = c.get<std::int64_t>("patch_size", 1);
  d.image_size = c.get<std::int64_t>("image_size", 64);
  d.depths = c.require<I64s>("depths");
  d.heads = c.require<I64s>("num_heads");
  d.mlp_ratio = c.get<double>("mlp_ratio", 2.0);
  d.img_range = static_cast<float>(c.get<double>("img_range", 1.0));
  d.eps = static_cast<float>(c.get<double>("layer_norm_eps", 1e-5));
  d.act = c.get<std::string>("hidden_act", "gelu");
  d.upsampler = c.has("upsampler") ? c.require<std::string>("upsampler") : std::string();
  d.resi_connection = c.get<std::string>("resi_connection", "1conv");
  if (d.depths.size() != d.heads.size())
    throw InvalidArgument(c.source() + ": depths has " + std::to_string(d.depths.size()) +
                          " entries but num_heads has " + std::to_string(d.heads.size()));
  for (auto h : d.heads)
    if (h <= 0 || d.C % h != 0)
      throw InvalidArgument(c.source() + ": embed_dim " + std::to_string(d.C) + " is not a multiple of num_heads " +
                            std::to_string(h));
  if (d.window < 2)
    throw UnsupportedError(c.source() + ": window_size " + std::to_string(d.window) + " is not supported");
  if (d.patch != 1)
    throw UnsupportedError(
        c.source() + ": patch_size " + std::to_string(d.patch) +
        " is not supported by the exporter (1 is; transformers' Swin2SR unembeds at the input size)");
  if (c.get<bool>("use_absolute_embeddings", false))
    throw UnsupportedError(c.source() + ": use_absolute_embeddings true is not supported by the exporter");
  if (d.resi_connection != "1conv" && d.resi_connection != "3conv")
    throw UnsupportedError(c.source() + ": resi_connection '" + d.resi_connection +
                           "' is not supported (1conv, 3conv)");
  const std::int64_t res = d.image_size / d.patch;
  if (res < d.window)
    throw UnsupportedError(c.source() + ": image_size " + std::to_string(d.image_size) + " smaller than window_size " +
                           std::to_string(d.window) + " is not supported by the exporter");
  // Swin2SRLayer.set_shift_and_window_size at construction: no shift when the resolution fits one window.
  d.shifts = res > d.window;
  return d;
}

void check_upsampler(const config::PretrainedConfig& c, const Swin2SRDims& d) {
  const auto& u = d.upsampler;
  if (u == "pixelshuffle") {
    if (d.upscale < 1 || (d.upscale != 3 && (d.upscale & (d.upscale - 1)) != 0))
      throw UnsupportedError(c.source() + ": upscale " + std::to_string(d.upscale) +
                             " is not supported with upsampler 'pixelshuffle' (2^n and 3 are)");
    return;
  }
  if (u == "pixelshuffledirect") {
    if (d.upscale < 1)
      throw UnsupportedError(c.source() + ": upscale " + std::to_string(d.upscale) + " is not supported");
    return;
  }
  if (u == "nearest+conv") {
    if (d.upscale != 4)
      throw UnsupportedError(c.source() + ": upscale " + std::to_string(d.upscale) +
                             " is not supported with upsampler 'nearest+conv' (4 is)");
    return;
  }
  if (u.empty()) return;  // no upsampler: denoising / JPEG artifact reduction head (final_convolution + input)
  throw UnsupportedError(c.source() + ": upsampler '" + u +
                         "' is not supported by the exporter (pixelshuffle, pixelshuffledirect, nearest+conv, or "
                         "none)");
}

// Relative coordinate table [(2w-1)^2, 2] of Swin2SRSelfAttention (pretrained_window_size 0), in float32 as
// PyTorch computes it: coordinates / (w - 1) * 8, then sign * log2(|x| + 1) / log2(8).
std::vector<float> relative_coords_table(std::int64_t w) {
  std::vector<float> t;
  for (std::int64_t i = -(w - 1); i < w; ++i)
    for (std::int64_t j = -(w - 1); j < w; ++j)
      for (std::int64_t v : {i, j}) {
        float x = static_cast<float>(v) / static_cast<float>(w - 1);
        x *= 8.0f;
        const float s = x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
        t.push_back(s * std::log2(std::fabs(x) + 1.0f) / 3.0f);
      }
  return t;
}

// relative_position_index [w*w * w*w] (flattened).
I64s relative_position_index(std::int64_t w) {
  I64s idx;
  const std::int64_t n = w * w;
  idx.reserve(static_cast<std::size_t>(n * n));
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t b = 0; b < n; ++b) {
      const std::int64_t dh = a / w - b / w + (w - 1), dw = a % w - b % w + (w - 1);
      idx.push_back(dh * (2 * w - 1) + dw);
    }
  return idx;
}

// Values shared by every layer of the graph.
struct Shared {
  std::string hp, wp;          // padded height / width, int64 [1]
  std::string shift;           // roll amount of the shifted layers, int64 [1] (0 when the image is one window)
  std::string mask;            // [1, nW, 1, N, N] shift attention mask (0 / -100; all 0 when shift is 0)
  std::string coords_table;    // [(2w-1)^2, 2]
  std::string position_index;  // [N * N] int64
};

Shared shared_values(BuildContext& ctx, const Swin2SRDims& d, const std::string& hp, const std::string& wp) {
  auto& g = ctx.g;
  Shared s;
  s.hp = hp;
  s.wp = wp;
  const std::int64_t w = d.window, N = w * w;
  const auto table = relative_coords_table(w);
  s.coords_table = g.const_f32(table, {(2 * w - 1) * (2 * w - 1), 2});
  s.position_index = g.const_i64(relative_position_index(w), {N * N});
  if (!d.shifts) return s;

  const std::string sc = "/encoder/shift";
  auto wc = g.const_i64({w});
  // Swin2SRLayer.set_shift_and_window_size at run time: (height, width) <= (window, window) disables the shift;
  // with the size padded to a multiple of the window that is height == width == window.
  auto one_window = g.node(sc, "And", {g.node(sc, "Equal", {hp, wc}), g.node(sc, "Equal", {wp, wc})});
  auto active = g.node(sc, "Cast", {g.node(sc, "Not", {one_window})}, {attr("to", kInt64)});
  s.shift = g.node(sc, "Mul", {g.const_i64({w / 2}), active});

  // Region ids of the padded image: rows [0, H - w) -> 0, [H - w, H - shift) -> 1, [H - shift, H) -> 2; same for
  // columns; id = 3 * row region + column region. Windows whose tokens come from different regions get -100.
  const std::string ms = "/encoder/attn_mask";
  auto region = [&](const std::string& n) {
    auto n0 = g.node(ms, "Squeeze", {n, g.const_i64({0})});
    auto r = g.node(ms, "Range", {g.scalar_i64(0), n0, g.scalar_i64(1)});
    auto a = g.node(ms, "Cast", {g.node(ms, "GreaterOrEqual", {r, g.node(ms, "Sub", {n, wc})})}, {attr("to", kFloat)});
    auto b =
        g.node(ms, "Cast", {g.node(ms, "GreaterOrEqual", {r, g.node(ms, "Sub", {n, s.shift})})}, {attr("to", kFloat)});
    return g.node(ms, "Add", {a, b});
  };
  auto rh = g.node(ms, "Unsqueeze", {region(hp), g.const_i64({1})});                // [H, 1]
  auto rw = g.node(ms, "Unsqueeze", {region(wp), g.const_i64({0})});                // [1, W]
  auto ids = g.node(ms, "Add", {g.node(ms, "Mul", {rh, g.scalar_f32(3.0f)}), rw});  // [H, W]
  auto nh = g.node(ms, "Div", {hp, wc});
  auto nw = g.node(ms, "Div", {wp, wc});
  auto r4 = g.node(ms, "Reshape", {ids, g.node(ms, "Concat", {nh, wc, nw, wc}, {attr("axis", 0)})});
  auto t4 = g.node(ms, "Transpose", {r4}, {attr("perm", I64s{0, 2, 1, 3})});
  auto mw = g.node(ms, "Reshape", {t4, g.const_i64({-1, N})});  // [nW, N]
  auto diff = g.node(ms, "Sub",
                     {g.node(ms, "Unsqueeze", {mw, g.const_i64({1})}),
                      g.node(ms, "Unsqueeze", {mw, g.const_i64({2})})});  // [nW, N, N]
  auto differs = g.node(ms, "Not", {g.node(ms, "Equal", {diff, g.scalar_f32(0.0f)})});
  auto m = g.node(ms, "Where", {differs, g.scalar_f32(-100.0f), g.scalar_f32(0.0f)});
  m = g.node(ms, "Mul", {m, g.node(ms, "Cast", {active}, {attr("to", kFloat)})});
  s.mask = g.node(ms, "Unsqueeze", {m, g.const_i64({0, 2})});  // [1, nW, 1, N, N]
  return s;
}

// Swin2SRSelfAttention + Swin2SRSelfOutput on windows [B * nW, N, C].
std::string window_attention(BuildContext& ctx, const std::string& scope, const std::string& x,
                             const std::string& prefix, const Swin2SRDims& d, std::int64_t heads, const Shared& sh,
                             bool masked) {
  auto& g = ctx.g;
  const std::int64_t C = d.C, hd = C / heads, N = d.window * d.window;
  const std::string s = scope + "/attention/self", p = prefix + ".attention.self";
  auto split = [&](const std::string& name) {
    auto y = linear(ctx, s + "/" + name, x, p + "." + name, C, C);
    auto r = g.node(s + "/" + name, "Reshape", {y, g.const_i64({0, 0, heads, hd})});
    return g.node(s + "/" + name, "Transpose", {r}, {attr("perm", I64s{0, 2, 1, 3})});
  };
  // F.normalize(dim=-1): x / max(||x||, 1e-12)
  auto normalize = [&](const std::string& v) {
    auto n = g.node(s + "/normalize", "ReduceL2", {v}, {attr("axes", I64s{-1}), attr("keepdims", 1)});
    return g.node(s + "/normalize", "Div", {v, g.node(s + "/normalize", "Max", {n, g.scalar_f32(1e-12f)})});
  };
  auto q = normalize(split("query"));
  auto k = normalize(split("key"));
  auto v = split("value");
  auto scores = g.node(s, "MatMul", {q, g.node(s, "Transpose", {k}, {attr("perm", I64s{0, 1, 3, 2})})});
  const Tensor& ls = ctx.w.get(p + ".logit_scale", {heads, 1, 1});
  auto scale = g.node(
      s + "/logit_scale", "Min",
      {ctx.weight(ctx.w.resolve(p + ".logit_scale"), ls), g.scalar_f32(static_cast<float>(std::log(1.0 / 0.01)))});
  scale = g.node(s + "/logit_scale", "Exp", {scale});
  scores = g.node(s, "Mul", {scores, scale});

  // continuous position bias: MLP on the coordinate table -> gather by the position index -> 16 * sigmoid
  const std::string cs = s + "/continuous_position_bias_mlp", cp = p + ".continuous_position_bias_mlp";
  auto hdn = g.node(cs, "Relu", {linear(ctx, cs + "/0", sh.coords_table, cp + ".0", 2, kCpbHidden)});
  auto table = linear(ctx, cs + "/2", hdn, cp + ".2", kCpbHidden, heads);  // [(2w-1)^2, heads]
  auto bias = g.node(cs, "Gather", {table, sh.position_index}, {attr("axis", 0)});
  bias = g.node(cs, "Reshape", {bias, g.const_i64({1, N, N, heads})});
  bias = g.node(cs, "Transpose", {bias}, {attr("perm", I64s{0, 3, 1, 2})});
  bias = g.node(cs, "Mul", {g.node(cs, "Sigmoid", {bias}), g.scalar_f32(16.0f)});
  scores = g.node(s, "Add", {scores, bias});

  if (masked) {
    // transformers adds the mask twice (view + mask, then + mask again); kept as it is.
    const std::string msc = s + "/mask";
    auto nwin = dim_of(ctx, msc, sh.mask, 1);
    auto s5 = g.node(msc, "Concat", {g.const_i64({-1}), nwin, g.const_i64({heads, N, N})}, {attr("axis", 0)});
    auto r = g.node(msc, "Reshape", {scores, s5});
    r = g.node(msc, "Add", {r, sh.mask});
    r = g.node(msc, "Add", {r, sh.mask});
    scores = g.node(msc, "Reshape", {r, g.const_i64({-1, heads, N, N})});
  }
  auto probs = g.node(s, "Softmax", {scores}, {attr("axis", -1)});
  auto context = g.node(s, "MatMul", {probs, v});
  context = g.node(s, "Transpose", {context}, {attr("perm", I64s{0, 2, 1, 3})});
  context = g.node(s, "Reshape", {context, g.const_i64({0, 0, C})});
  return linear(ctx, scope + "/attention/output/dense", context, prefix + ".attention.output.dense", C, C);
}

// Swin2SRLayer on tokens [B, H*W, C] (res-post-norm).
std::string swin_layer(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                       const Swin2SRDims& d, std::int64_t heads, const Shared& sh, bool shifted) {
  auto& g = ctx.g;
  const std::int64_t C = d.C;
  auto shape4 = g.node(scope, "Concat", {g.const_i64({0}), sh.hp, sh.wp, g.const_i64({C})}, {attr("axis", 0)});
  auto img = g.node(scope, "Reshape", {x, shape4});
  if (shifted) img = roll_hw(ctx, scope + "/roll", img, sh.shift, true);
  auto windows = window_partition(ctx, scope + "/window_partition", img, d.window, C);
  auto attn = window_attention(ctx, scope, windows, prefix, d, heads, sh, shifted);
  img = window_reverse(ctx, scope + "/window_reverse", attn, d.window, sh.hp, sh.wp, C);
  if (shifted) img = roll_hw(ctx, scope + "/roll_back", img, sh.shift, false);
  auto tokens = g.node(scope, "Reshape", {img, g.const_i64({0, -1, C})});
  auto h = g.node(scope, "Add",
                  {x, layer_norm(ctx, scope + "/layernorm_before", tokens, prefix + ".layernorm_before", C, d.eps)});
  const auto I = static_cast<std::int64_t>(d.mlp_ratio * static_cast<double>(C));
  auto f = linear(ctx, scope + "/intermediate/dense", h, prefix + ".intermediate.dense", C, I);
  f = activation(ctx, scope + "/intermediate/intermediate_act_fn", f, d.act);
  f = linear(ctx, scope + "/output/dense", f, prefix + ".output.dense", I, C);
  return g.node(scope, "Add",
                {h, layer_norm(ctx, scope + "/layernorm_after", f, prefix + ".layernorm_after", C, d.eps)});
}

Conv2dSpec conv3x3(std::int64_t in, std::int64_t out) {
  return {in, out, 3, 1, 1, 1, true};
}

// Swin2SRModel: returns the last hidden state [B, C, Hp, Wp]; `padded` gets the padded, unnormalised input.
std::string swin2sr_model(BuildContext& ctx, const Swin2SRDims& d, const std::string& pixel_values,
                          const std::string& mean, std::string& padded) {
  auto& g = ctx.g;
  const std::int64_t C = d.C;
  padded = pad_to_multiple(ctx, "/swin2sr/pad", pixel_values, d.window, "reflect");
  auto x = g.node("/swin2sr/normalize", "Mul",
                  {g.node("/swin2sr/normalize", "Sub", {padded, mean}), g.scalar_f32(d.img_range)});
  auto first = conv2d(ctx, "/swin2sr/first_convolution", x, "first_convolution", conv3x3(d.num_channels, C));
  auto emb = conv2d(ctx, "/swin2sr/embeddings/patch_embeddings/projection", first,
                    "embeddings.patch_embeddings.projection", {C, C, d.patch, d.patch, 0, 1, true});
  auto hp = dim_of(ctx, "/swin2sr/embeddings", emb, 2);
  auto wp = dim_of(ctx, "/swin2sr/embeddings", emb, 3);
  auto seq = nchw_to_tokens(ctx, "/swin2sr/embeddings", emb);
  seq = layer_norm(ctx, "/swin2sr/embeddings/patch_embeddings/layernorm", seq, "embeddings.patch_embeddings.layernorm",
                   C, kDefaultLnEps);
  const Shared sh = shared_values(ctx, d, hp, wp);

  for (std::size_t i = 0; i < d.depths.size(); ++i) {
    const std::string si = std::to_string(i), ss = "/swin2sr/encoder/stages." + si, sp = "encoder.stages." + si;
    auto residual = seq;
    for (std::int64_t j = 0; j < d.depths[i]; ++j) {
      const std::string sj = std::to_string(j);
      if (ctx.on_progress) ctx.on_progress("stage " + si + " layer " + sj);
      seq = swin_layer(ctx, ss + "/layers." + sj, seq, sp + ".layers." + sj, d, d.heads[i], sh, d.shifts && j % 2 == 1);
    }
    auto img = tokens_to_nchw(ctx, ss + "/patch_unembed", seq, hp, wp, C);
    if (d.resi_connection == "1conv") {
      img = conv2d(ctx, ss + "/conv", img, sp + ".conv", conv3x3(C, C));
    } else {
      img = conv2d(ctx, ss + "/conv/0", img, sp + ".conv.0", conv3x3(C, C / 4));
      img = leaky_relu(ctx, ss + "/conv/1", img, 0.2f);
      img = conv2d(ctx, ss + "/conv/2", img, sp + ".conv.2", {C / 4, C / 4, 1, 1, 0, 1, true});
      img = leaky_relu(ctx, ss + "/conv/3", img, 0.2f);
      img = conv2d(ctx, ss + "/conv/4", img, sp + ".conv.4", conv3x3(C / 4, C));
    }
    img = conv2d(ctx, ss + "/patch_embed/projection", img, sp + ".patch_embed.projection",
                 {C, C, d.patch, d.patch, 0, 1, true});
    seq = g.node(ss, "Add", {nchw_to_tokens(ctx, ss + "/patch_embed", img), residual});
  }
  seq = layer_norm(ctx, "/swin2sr/layernorm", seq, "layernorm", C, d.eps);
  auto img = tokens_to_nchw(ctx, "/swin2sr/patch_unembed", seq, hp, wp, C);
  img = conv2d(ctx, "/swin2sr/conv_after_body", img, "conv_after_body", conv3x3(C, C));
  return g.node("/swin2sr", "Add", {img, first});
}

std::string upsample_head(BuildContext& ctx, const Swin2SRDims& d, const std::string& x, const std::string& padded) {
  auto& g = ctx.g;
  const std::int64_t F = kNumFeatures, nc = d.num_channels;
  const auto& u = d.upsampler;
  if (u == "pixelshuffle") {
    auto y = conv2d(ctx, "/upsample/conv_before_upsample", x, "upsample.conv_before_upsample", conv3x3(d.C, F), true);
    y = leaky_relu(ctx, "/upsample/activation", y, 0.01f);
    if (d.upscale == 3) {
      y = conv2d(ctx, "/upsample/upsample/convolution", y, "upsample.upsample.convolution", conv3x3(F, 9 * F), true);
      y = pixel_shuffle(ctx, "/upsample/upsample/pixelshuffle", y, 3);
    } else {
      std::int64_t i = 0;
      for (std::int64_t s = d.upscale; s > 1; s /= 2, ++i) {
        const std::string si = std::to_string(i);
        y = conv2d(ctx, "/upsample/upsample/convolution_" + si, y, "upsample.upsample.convolution_" + si,
                   conv3x3(F, 4 * F), true);
        y = pixel_shuffle(ctx, "/upsample/upsample/pixelshuffle_" + si, y, 2);
      }
    }
    return conv2d(ctx, "/upsample/final_convolution", y, "upsample.final_convolution", conv3x3(F, nc), true);
  }
  if (u == "pixelshuffledirect") {
    auto y = conv2d(ctx, "/upsample/conv", x, "upsample.conv", conv3x3(d.C, d.upscale * d.upscale * nc), true);
    return pixel_shuffle(ctx, "/upsample/pixel_shuffle", y, d.upscale);
  }
  if (u == "nearest+conv") {
    auto y = conv2d(ctx, "/upsample/conv_before_upsample", x, "upsample.conv_before_upsample", conv3x3(d.C, F), true);
    y = leaky_relu(ctx, "/upsample/activation", y, 0.01f);
    for (const char* n : {"conv_up1", "conv_up2"}) {
      const std::string sn = std::string("/upsample/") + n;
      y = upsample_nearest(ctx, sn + "/interpolate", y, 2);
      y = conv2d(ctx, sn, y, std::string("upsample.") + n, conv3x3(F, F), true);
      y = leaky_relu(ctx, sn + "/lrelu", y, 0.2f);
    }
    y = conv2d(ctx, "/upsample/conv_hr", y, "upsample.conv_hr", conv3x3(F, F), true);
    y = leaky_relu(ctx, "/upsample/conv_hr/lrelu", y, 0.2f);
    return conv2d(ctx, "/upsample/final_convolution", y, "upsample.final_convolution", conv3x3(F, nc), true);
  }
  // no upsampler: pixel_values + final_convolution(features) (the input as given, padded to the features' size)
  auto y = conv2d(ctx, "/final_convolution", x, "final_convolution", conv3x3(d.C, nc), true);
  return g.node("/final_convolution", "Add", {padded, y});
}

class Swin2SR : public Architecture {
 public:
  std::vector<std::string> model_types() const override { return {"swin2sr"}; }
  std::string base_model_prefix() const override { return "swin2sr"; }
  std::vector<std::string> tasks() const override { return {"feature-extraction", "image-to-image"}; }
  bool token_inputs() const override { return false; }
  std::string task_for_class(const std::string& class_name) const override {
    if (class_name == "Swin2SRForImageSuperResolution") return "image-to-image";
    if (class_name == "Swin2SRModel") return "feature-extraction";
    return "";
  }
  std::int64_t hidden_size(const config::PretrainedConfig& config) const override {
    return config.require<std::int64_t>("embed_dim");
  }

  std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const override {
    const auto& c = ctx.config;
    if (task != "feature-extraction" && task != "image-to-image") throw_unsupported_task(*this, task);
    const auto d = read_dims(c);
    if (task == "image-to-image") check_upsampler(c, d);
    auto& g = ctx.g;
    const Dim B = std::string("batch_size");
    g.add_input("pixel_values", kFloat, {B, std::string("num_channels"), std::string("height"), std::string("width")});
    const std::string mean = d.num_channels == 3 ? g.const_f32({0.4488f, 0.4371f, 0.4040f}, {1, 3, 1, 1})
                                                 : g.const_f32({0.0f}, {1, 1, 1, 1});
    std::string padded;
    auto hidden = swin2sr_model(ctx, d, "pixel_values", mean, padded);
    if (task == "feature-extraction")
      return {{"last_hidden_state", hidden, {B, d.C, std::string("height"), std::string("width")}}};

    auto rec = upsample_head(ctx, d, hidden, padded);
    const std::string s = "/reconstruction";
    rec = g.node(s, "Add", {g.node(s, "Div", {rec, g.scalar_f32(d.img_range)}), mean});
    auto up = g.const_i64({d.upscale});
    auto h = g.node(s, "Mul", {dim_of(ctx, s, "pixel_values", 2), up});
    auto w = g.node(s, "Mul", {dim_of(ctx, s, "pixel_values", 3), up});
    rec = crop_hw(ctx, s, rec, h, w);
    return {{"reconstruction", rec, {B, std::string("num_channels"), std::string("height"), std::string("width")}}};
  }
};

}  // namespace

std::unique_ptr<Architecture> make_swin2sr_architecture() {
  return std::make_unique<Swin2SR>();
}

}  // namespace ortformers::exporters
