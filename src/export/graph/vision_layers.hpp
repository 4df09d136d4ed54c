#pragma once
// Building blocks of the vision architectures (SegFormer, Swin2SR): Conv2d, eval BatchNorm folded at export time,
// NCHW <-> token-sequence reshapes, bilinear resize (F.interpolate align_corners=False), pixel shuffle, padding to a
// multiple, cyclic shifts and window partition for shifted-window attention. Every size is read from the graph
// (Shape), so the graphs keep dynamic batch / height / width.
#include <cstdint>
#include <string>
#include <vector>

#include "export/graph/layers.hpp"

namespace ortformers::exporters {

// A 2-D convolution `prefix`.weight [out, in / groups, kernel, kernel] (+ `prefix`.bias [out] when `bias`: a
// NotFoundError naming it when absent) on an NCHW tensor; symmetric padding `pad`.
struct Conv2dSpec {
  std::int64_t in = 0, out = 0, kernel = 1, stride = 1, pad = 0, groups = 1;
  bool bias = true;
};
std::string conv2d(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                   const Conv2dSpec& s, bool head = false);

// nn.BatchNorm2d in eval mode: (x - running_mean) / sqrt(running_var + eps) * weight + bias, folded at export time
// into a per-channel scale and shift ([1, C, 1, 1] initializers) applied with Mul + Add.
std::string batch_norm_2d(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& prefix,
                          std::int64_t channels, float eps, bool head = false);

// Size of axis `axis` of x as an int64 tensor [1].
std::string dim_of(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t axis);
// NCHW [B, C, H, W] -> [B, H*W, C] (flatten(2).transpose(1, 2)).
std::string nchw_to_tokens(BuildContext& ctx, const std::string& scope, const std::string& x);
// [B, H*W, C] -> NCHW [B, C, H, W]; h, w are int64 [1] tensors, C is fixed.
std::string tokens_to_nchw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& h,
                           const std::string& w, std::int64_t channels);

// Bilinear resize of NCHW x to the height/width of NCHW `like`, as F.interpolate(mode="bilinear",
// align_corners=False) (Resize linear, pytorch_half_pixel).
std::string resize_bilinear_like(BuildContext& ctx, const std::string& scope, const std::string& x,
                                 const std::string& like);
// Nearest-neighbour upsampling by an integer factor (F.interpolate(scale_factor=f, mode="nearest")).
std::string upsample_nearest(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t factor);
// nn.PixelShuffle(r): DepthToSpace, mode CRD.
std::string pixel_shuffle(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t r);
// LeakyReLU with negative slope `alpha`.
std::string leaky_relu(BuildContext& ctx, const std::string& scope, const std::string& x, float alpha);

// Pads NCHW x at the bottom / right to multiples of `multiple` ((m - n % m) % m rows / columns); `mode` is an ONNX
// Pad mode ("reflect", "constant").
std::string pad_to_multiple(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t multiple,
                            const std::string& mode);
// x[:, :, :h, :w] for NCHW x; h, w int64 [1] tensors.
std::string crop_hw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& h,
                    const std::string& w);

// torch.roll(x, shifts=(-s, -s), dims=(1, 2)) on [B, H, W, C] (`forward`) or shifts=(s, s) (`!forward`); s is an
// int64 [1] tensor in [0, H) and [0, W) (0 allowed).
std::string roll_hw(BuildContext& ctx, const std::string& scope, const std::string& x, const std::string& shift,
                    bool forward);
// Swin window_partition: [B, H, W, C] -> [B * nW, ws * ws, C] (H, W multiples of ws).
std::string window_partition(BuildContext& ctx, const std::string& scope, const std::string& x, std::int64_t ws,
                             std::int64_t channels);
// Swin window_reverse: [B * nW, ws * ws, C] -> [B, H, W, C]; h, w int64 [1] tensors.
std::string window_reverse(BuildContext& ctx, const std::string& scope, const std::string& windows, std::int64_t ws,
                           const std::string& h, const std::string& w, std::int64_t channels);

}  // namespace ortformers::exporters
