#include "decoder_common.hpp"

#include <algorithm>
#include <cstring>

#include "ortformers/core/error.hpp"
#include "ortformers/models/decoder_step.hpp"

namespace ortformers::models {

void DecoderStep::append_rows(DecoderStep&) {
  throw UnsupportedError("DecoderStep.append_rows: this model's decoding state cannot join another one");
}

void DecoderStep::trim_past(std::int64_t) {
  throw UnsupportedError("DecoderStep.trim_past: this model's decoding state cannot drop cached positions");
}

namespace fs = std::filesystem;

std::optional<fs::path> find_named(const fs::path& base, const std::string& name) {
  for (const fs::path& p : {base / name, base / "onnx" / name}) {
    if (fs::is_regular_file(p)) return p;
  }
  return std::nullopt;
}

Tensor check_token_ids(const Tensor& input_ids, std::int64_t vocab, const std::string& what, const std::string& name) {
  if (!input_ids.defined()) throw InvalidArgument(what + ": " + name + " is required");
  if (input_ids.rank() != 2) {
    throw InvalidArgument(what + ": " + name + " must be [batch, sequence_length], got shape " +
                          shape_to_string(input_ids.shape()));
  }
  if (input_ids.dtype() != DType::Int64 && input_ids.dtype() != DType::Int32) {
    throw InvalidArgument(what + ": " + name + " must be int64 (or int32), got " + dtype_name(input_ids.dtype()));
  }
  if (input_ids.numel() == 0) {
    throw InvalidArgument(what + ": " + name + " is empty (shape " + shape_to_string(input_ids.shape()) +
                          "): at least one token per row is needed");
  }
  Tensor ids = input_ids.dtype() == DType::Int64 ? input_ids : input_ids.to(DType::Int64);
  if (vocab > 0) {
    for (std::int64_t id : ids.span<std::int64_t>()) {
      if (id < 0 || id >= vocab) {
        throw InvalidArgument(what + ": token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab) +
                              ")");
      }
    }
  }
  return ids;
}

Tensor last_position_logits(const Tensor& logits) {
  if (logits.rank() != 3 || logits.dim(1) == 0) {
    throw RuntimeError("logits output has shape " + shape_to_string(logits.shape()) +
                       "; expected [batch, sequence_length, vocab]");
  }
  const std::int64_t rows = logits.dim(0), seq = logits.dim(1), vocab = logits.dim(2);
  std::vector<float> out(static_cast<std::size_t>(rows * vocab));
  if (logits.dtype() == DType::Float32) {
    const float* src = logits.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      std::memcpy(out.data() + r * vocab, src + (r * seq + seq - 1) * vocab, sizeof(float) * vocab);
    }
  } else if (logits.dtype() == DType::Float16) {
    const Float16* src = logits.data<Float16>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t v = 0; v < vocab; ++v)
        out[r * vocab + v] = half_to_float(src[(r * seq + seq - 1) * vocab + v].bits);
    }
  } else {
    const auto all = logits.to_float_vector();
    for (std::int64_t r = 0; r < rows; ++r) {
      std::copy_n(all.begin() + (r * seq + seq - 1) * vocab, vocab, out.begin() + r * vocab);
    }
  }
  return Tensor::from_vector(std::move(out), {rows, vocab});
}

Tensor gather_rows(const Tensor& t, std::span<const std::int64_t> rows) {
  if (t.rank() == 0) throw InvalidArgument("gather_rows: a scalar has no rows");
  const std::int64_t n = t.dim(0);
  Shape shape = t.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor out = Tensor::zeros(t.dtype(), shape);
  const std::size_t row_bytes = n > 0 ? t.nbytes() / static_cast<std::size_t>(n) : 0;
  const auto* src = static_cast<const std::byte*>(t.raw_data());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= n) {
      throw InvalidArgument("gather_rows: row " + std::to_string(rows[i]) + " out of range [0, " + std::to_string(n) +
                            ")");
    }
    if (row_bytes) std::memcpy(dst + i * row_bytes, src + rows[i] * row_bytes, row_bytes);
  }
  return out;
}

}  // namespace ortformers::models
