// safetensors reader: 8-byte little-endian header length, a JSON header, then the tensor bytes.
// Validation follows the reference implementation: header length within the file and <= 100 MB, every tensor's
// offsets inside the data section, size = numel x dtype size, tensors contiguous without overlap or holes.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "export/checkpoint/detail.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters {

namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;

enum class Conversion { None, U16, U32, U64, F8E4M3, F8E5M2, F8E8M0 };

struct DTypeInfo {
  DType dtype;            // dtype of the resulting tensor
  std::size_t file_size;  // bytes per element in the file
  Conversion conversion;
};

std::optional<DTypeInfo> lookup_dtype(const std::string& s) {
  if (s == "F64") return DTypeInfo{DType::Float64, 8, Conversion::None};
  if (s == "F32") return DTypeInfo{DType::Float32, 4, Conversion::None};
  if (s == "F16") return DTypeInfo{DType::Float16, 2, Conversion::None};
  if (s == "BF16") return DTypeInfo{DType::BFloat16, 2, Conversion::None};
  if (s == "I64") return DTypeInfo{DType::Int64, 8, Conversion::None};
  if (s == "I32") return DTypeInfo{DType::Int32, 4, Conversion::None};
  if (s == "I16") return DTypeInfo{DType::Int16, 2, Conversion::None};
  if (s == "I8") return DTypeInfo{DType::Int8, 1, Conversion::None};
  if (s == "U8") return DTypeInfo{DType::UInt8, 1, Conversion::None};
  if (s == "BOOL") return DTypeInfo{DType::Bool, 1, Conversion::None};
  if (s == "U16") return DTypeInfo{DType::Int32, 2, Conversion::U16};
  if (s == "U32") return DTypeInfo{DType::Int64, 4, Conversion::U32};
  if (s == "U64") return DTypeInfo{DType::Int64, 8, Conversion::U64};
  if (s == "F8_E4M3") return DTypeInfo{DType::Float32, 1, Conversion::F8E4M3};
  if (s == "F8_E5M2") return DTypeInfo{DType::Float32, 1, Conversion::F8E5M2};
  if (s == "F8_E8M0") return DTypeInfo{DType::Float32, 1, Conversion::F8E8M0};
  return std::nullopt;
}

// float8 e4m3fn: bias 7, no infinities, S.1111.111 is NaN.
float f8e4m3_to_float(std::uint8_t v) {
  const bool neg = v & 0x80;
  const int exp = (v >> 3) & 0xf;
  const int mant = v & 0x7;
  float r;
  if (exp == 0xf && mant == 0x7) return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0)
    r = std::ldexp(static_cast<float>(mant) / 8.0f, -6);
  else
    r = std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
  return neg ? -r : r;
}

// float8 e5m2: IEEE-like, bias 15, with infinities and NaNs.
float f8e5m2_to_float(std::uint8_t v) {
  return half_to_float(static_cast<std::uint16_t>(v) << 8);
}

// float8 e8m0 (MX scales): 2^(v - 127), 0xFF is NaN.
float f8e8m0_to_float(std::uint8_t v) {
  if (v == 0xff) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(v) - 127);
}

template <class T>
T read_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;  // little-endian host (x86-64 / aarch64)
}

Tensor convert(const DTypeInfo& info, const std::uint8_t* src, Shape shape, const std::string& where) {
  const auto n = static_cast<std::size_t>(shape_numel(shape));
  auto buffer = detail::make_buffer(n * dtype_size(info.dtype));
  std::uint8_t* out = buffer.get();
  for (std::size_t i = 0; i < n; ++i) {
    switch (info.conversion) {
      case Conversion::U16: {
        const std::int32_t v = read_le<std::uint16_t>(src + 2 * i);
        std::memcpy(out + 4 * i, &v, 4);
        break;
      }
      case Conversion::U32: {
        const std::int64_t v = read_le<std::uint32_t>(src + 4 * i);
        std::memcpy(out + 8 * i, &v, 8);
        break;
      }
      case Conversion::U64: {
        const std::uint64_t u = read_le<std::uint64_t>(src + 8 * i);
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          throw FileFormatError(where + ": U64 value " + std::to_string(u) + " at index " + std::to_string(i) +
                                " does not fit int64");
        }
        const auto v = static_cast<std::int64_t>(u);
        std::memcpy(out + 8 * i, &v, 8);
        break;
      }
      case Conversion::F8E4M3: {
        const float v = f8e4m3_to_float(src[i]);
        std::memcpy(out + 4 * i, &v, 4);
        break;
      }
      case Conversion::F8E5M2: {
        const float v = f8e5m2_to_float(src[i]);
        std::memcpy(out + 4 * i, &v, 4);
        break;
      }
      case Conversion::F8E8M0: {
        const float v = f8e8m0_to_float(src[i]);
        std::memcpy(out + 4 * i, &v, 4);
        break;
      }
      case Conversion::None: break;
    }
  }
  return Tensor::from_external(info.dtype, out, std::move(shape), std::move(buffer));
}

struct Entry {
  std::string name;
  DTypeInfo info;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

}  // namespace

StateDict load_safetensors_from_memory(std::span<const std::uint8_t> bytes, const std::string& source,
                                       std::shared_ptr<void> owner) {
  const std::string& file = source;
  if (bytes.size() < 8) {
    throw FileFormatError(file + ": not a safetensors file: " + std::to_string(bytes.size()) +
                          " bytes, shorter than the 8-byte header length");
  }
  const auto header_len = read_le<std::uint64_t>(bytes.data());
  if (header_len > kMaxHeader) {
    throw FileFormatError(file + ": safetensors header length " + std::to_string(header_len) +
                          " exceeds the 100 MB limit (corrupt or not a safetensors file)");
  }
  if (header_len > bytes.size() - 8) {
    throw FileFormatError(file + ": safetensors header length " + std::to_string(header_len) + " exceeds the file (" +
                          std::to_string(bytes.size()) + " bytes): truncated file?");
  }
  const char* hbegin = reinterpret_cast<const char*>(bytes.data() + 8);
  if (header_len < 2 || hbegin[0] != '{') {
    throw FileFormatError(file + ": safetensors header does not start with a JSON object");
  }
  Json header;
  try {
    header = Json::parse(hbegin, hbegin + header_len);
  } catch (const Json::exception& e) {
    throw FileFormatError(file + ": safetensors header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw FileFormatError(file + ": safetensors header is not a JSON object");

  const std::uint8_t* data = bytes.data() + 8 + header_len;
  const std::uint64_t data_size = bytes.size() - 8 - header_len;

  StateDict out;
  out.set_source(file);
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    const std::string where = file + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!value.is_object()) throw FileFormatError(file + ": \"__metadata__\" must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw FileFormatError(file + ": \"__metadata__\"[\"" + k + "\"] must be a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) throw FileFormatError(where + ": header entry is not an object");
    if (!value.contains("dtype") || !value["dtype"].is_string()) {
      throw FileFormatError(where + ": missing or non-string \"dtype\"");
    }
    const std::string dtype = value["dtype"].get<std::string>();
    const auto info = lookup_dtype(dtype);
    if (!info) {
      if (dtype == "C64" || dtype == "F4" || dtype == "F6_E2M3" || dtype == "F6_E3M2") {
        throw UnsupportedError(where + ": safetensors dtype " + dtype + " is not supported");
      }
      throw FileFormatError(where + ": unknown safetensors dtype \"" + dtype + "\"");
    }
    if (!value.contains("shape") || !value["shape"].is_array()) {
      throw FileFormatError(where + ": missing or non-array \"shape\"");
    }
    Entry e{name, *info, {}, 0, 0};
    std::size_t numel = 1;
    for (const auto& d : value["shape"]) {
      if (!d.is_number_unsigned())
        throw FileFormatError(where + ": shape " + value["shape"].dump() + " must hold non-negative integers");
      const auto dim = d.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        throw FileFormatError(where + ": shape dimension " + std::to_string(dim) + " is too large");
      }
      numel = detail::checked_mul(numel, static_cast<std::size_t>(dim), where + " shape " + value["shape"].dump());
      e.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& offs = value.contains("data_offsets") ? value["data_offsets"] : Json();
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) {
      throw FileFormatError(where + ": \"data_offsets\" must be [begin, end] with non-negative integers");
    }
    e.begin = offs[0].get<std::uint64_t>();
    e.end = offs[1].get<std::uint64_t>();
    if (e.begin > e.end) {
      throw FileFormatError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                            "] has begin > end");
    }
    if (e.end > data_size) {
      throw FileFormatError(where + ": data_offsets end " + std::to_string(e.end) + " lies beyond the data section (" +
                            std::to_string(data_size) + " bytes): truncated file?");
    }
    const std::size_t expected = detail::checked_mul(numel, info->file_size, where);
    if (e.end - e.begin != expected) {
      throw FileFormatError(where + ": holds " + std::to_string(e.end - e.begin) + " bytes but dtype " + dtype +
                            " and shape " + value["shape"].dump() + " need " + std::to_string(expected));
    }
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::uint64_t last_end = 0;
  std::string last_name;
  for (const auto& e : entries) {
    if (e.begin < last_end) {
      throw FileFormatError(file + ": tensor '" + e.name + "' overlaps tensor '" + last_name + "' (data_offsets " +
                            std::to_string(e.begin) + " < " + std::to_string(last_end) + ")");
    }
    if (e.begin > last_end) {
      throw FileFormatError(file + ": gap before tensor '" + e.name + "' (data_offsets begin " +
                            std::to_string(e.begin) + ", previous tensor ends at " + std::to_string(last_end) + ")");
    }
    last_end = e.end;
    last_name = e.name;
  }
  if (last_end != data_size) {
    throw FileFormatError(file + ": the tensors cover " + std::to_string(last_end) + " bytes of a " +
                          std::to_string(data_size) + "-byte data section (trailing bytes or corrupt header)");
  }
  for (auto& e : entries) {
    const std::uint8_t* p = data + e.begin;
    if (e.info.conversion != Conversion::None) {
      out.insert(e.name, convert(e.info, p, std::move(e.shape), file + ": tensor '" + e.name + "'"));
    } else {
      out.insert(e.name, detail::tensor_over(e.info.dtype, p, std::move(e.shape), owner));
    }
  }
  return out;
}

StateDict load_safetensors(const std::filesystem::path& file) {
  auto mapped = detail::MappedFile::open(file);
  auto bytes = mapped->bytes();
  return load_safetensors_from_memory(bytes, file.string(), std::move(mapped));
}

}  // namespace ortformers::exporters
