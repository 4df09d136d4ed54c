#pragma once
// Dynamic int8 quantisation of an ONNX graph, like onnxruntime.quantization.quantize_dynamic.
//
// Each MatMul (and Gemm with alpha = beta = 1, transA = 0) whose second input is a constant float32 2-D weight
// initializer [K, N] becomes one com.microsoft DynamicQuantizeMatMul node (ONNX Runtime CPU contrib op, u8 x s8
// with VNNI where the CPU has it):
//   - weights: int8, symmetric (zero point 0), per output column N (per_channel) or per tensor, range [-63, 63]
//     with reduce_range (the default, see WeightType) or [-127, 127]; or uint8 with zero point 128 (WeightType);
//   - activations: quantised to uint8 at run time, with a scale and zero point computed from the min / max of the
//     whole input tensor of that node;
//   - a following Add of a constant [N] float bias is folded into the node's bias input.
// A com.microsoft Attention node (packed QKV weight [D, 3H] + bias, as the --optimize graph has) becomes
// DynamicQuantizeLinear on its input + com.microsoft QAttention with the same int8 per-column weights.
// Everything else stays float32. For MatMul this is what ORT's own fusion makes of quantize_dynamic's
// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul (-> Add) chain, emitted directly.
//
// NOTE: activation scales are dynamic and computed over the whole tensor, i.e. over every row of the batch: a
// sequence's result depends on the other sequences it is batched with (and on padding). Outputs for the same
// input can differ slightly between batch sizes; compare quantised outputs with a tolerance, not bit for bit.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace ortformers::exporters {

// Weight element type, as onnxruntime's QuantType: QInt8 (u8 x s8 products: VNNI's vpdpbusd; without VNNI, AVX2 /
// AVX-512 use vpmaddubsw, whose int16 sum of two u8 x s8 products saturates unless weights are 7-bit) or QUInt8
// (u8 x u8, weights + 128 with zero point 128: ONNX Runtime widens both to int16, never saturates, on every CPU).
enum class WeightType { Int8, UInt8 };

struct QuantizeOptions {
  bool per_channel = true;  // one scale per output column of each weight, else one per weight
  WeightType weight_type = WeightType::Int8;
  bool reduce_range = true;  // 7-bit weights ([-63, 63]): no vpmaddubsw saturation on CPUs without VNNI
  // Which ops to quantise: MatMul, Gemm, and com.microsoft Attention (the --optimize graph's packed-QKV attention).
  std::set<std::string> op_types = {"MatMul", "Gemm", "Attention"};
  std::set<std::string> nodes_to_exclude;  // node names left in float
  std::size_t min_weight_elements = 0;     // weights smaller than this stay float (0: quantise all)
  // MatMuls reading the same input (query / key / value) become one DynamicQuantizeMatMul on the concatenated
  // weight + Split, so the input is quantised once (per_channel only: the arithmetic is then unchanged).
  bool merge_shared_input = true;
};

// The schemes by name, as optimum's AutoQuantizationConfig presets (dynamic, per-channel, symmetric weights):
//   "int8"        the default, correct on every x86-64 CPU: u8 x s8 with 7-bit weights (reduce_range). Runs VNNI's
//                 fast kernel where the CPU has it, and cannot saturate vpmaddubsw where it has not.
//   "avx512_vnni" u8 x s8, 8-bit weights: for CPUs with VNNI (AVX512-VNNI or AVX-VNNI) only; on other CPUs its
//                 products can saturate and outputs degrade.
//   "avx512"      u8 x s8, 7-bit weights (optimum leaves reduce_range to the user; without VNNI it is needed).
//   "avx2"        u8 x u8, 8-bit weights (optimum's avx2 preset: weights QUInt8).
//   "arm64"       u8 x s8, 8-bit weights (ARM's int8 dot products do not saturate).
// InvalidArgument naming the accepted names for another one.
QuantizeOptions quantization_preset(const std::string& name);
const std::vector<std::string>& quantization_preset_names();
// "u8s8, 7-bit weights (reduce_range), per-channel" — what `info` and the export log print.
std::string describe(const QuantizeOptions& options);
// Whether this CPU has 8-bit dot-product instructions that take u8 x s8 without saturation (x86 AVX512-VNNI or
// AVX-VNNI; always true on ARM64 and false elsewhere).
bool cpu_has_int8_dot_product();

struct QuantizeReport {
  std::size_t quantized_nodes = 0;     // MatMul / Gemm nodes replaced
  std::size_t fused_biases = 0;        // Add nodes folded into them
  std::size_t float_weight_bytes = 0;  // bytes of the float weights replaced
  std::size_t int8_weight_bytes = 0;   // bytes of the int8 weights and scales written instead
  std::size_t merged_nodes = 0;        // MatMuls folded into another's DynamicQuantizeMatMul (shared input)
};

// Rewrites `model` in place and runs the ONNX checker on the result (RuntimeError if it fails).
// Adds the com.microsoft opset import. Weights stored as external data are left in float.
QuantizeReport quantize_dynamic_int8(onnx::ModelProto& model, const QuantizeOptions& options = {});

// Reads `in`, quantises, writes `out` (in and out may be the same path). FileFormatError when `in` is not an ONNX
// model; NotFoundError when missing.
QuantizeReport quantize_dynamic_int8_file(const std::filesystem::path& in, const std::filesystem::path& out,
                                          const QuantizeOptions& options = {});

// --- weight-only int4 / block-wise int8 (MatMulNBits) --------------------------------------------------------------

// As onnxruntime's MatMulNBitsQuantizer (block-wise along K, 4 or 8 bits, float32 scales; see quantize_nbits.cpp).
struct QuantizeNBitsOptions {
  std::int64_t bits = 4;         // 4 or 8
  std::int64_t block_size = 32;  // a power of two >= 16
  bool symmetric = true;         // zero point 8 (128 at 8 bits), no zero_points input; false: per-block zero points
  // MatMulNBits accuracy_level: 0 = unset (float32 compute: MLAS dequantises blocks), 4 = int8 compute (the
  // activations quantised per block to int8, MLAS's integer kernels; onnxruntime-genai's builder's CPU default).
  std::int64_t accuracy_level = 0;
  std::set<std::string> nodes_to_exclude;
};
// Block size 32, accuracy_level 4: "int4" (symmetric), "int4_asym" (asymmetric) and "int8_block" (8 bits,
// symmetric: llama.cpp's Q8_0 scheme); nullopt for other names (the dynamic int8 presets).
std::optional<QuantizeNBitsOptions> nbits_preset(const std::string& name);
std::vector<std::string> nbits_preset_names();
std::string describe(const QuantizeNBitsOptions& options);
// Every MatMul whose second input is a float32 [K, N] initializer becomes com.microsoft MatMulNBits (options.bits);
// activations stay float32 in the graph (accuracy_level 4 quantises them per block inside the kernel). Float weights
// nothing else reads are removed. Runs the ONNX checker (RuntimeError).
// In the report, int8_weight_bytes counts the 4- or 8-bit blobs, scales and zero points written.
QuantizeReport quantize_matmul_nbits(onnx::ModelProto& model, const QuantizeNBitsOptions& options = {});

}  // namespace ortformers::exporters
