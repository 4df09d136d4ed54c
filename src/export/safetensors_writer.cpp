#include "ortformers/export/safetensors_writer.hpp"

#include <cstdint>
#include <fstream>
#include <set>

#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"

namespace ortformers::exporters {

namespace {
const char* st_dtype(DType d) {
  switch (d) {
    case DType::Float32: return "F32";
    case DType::Float16: return "F16";
    case DType::BFloat16: return "BF16";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Int32: return "I32";
    case DType::Int16: return "I16";
    case DType::Int8: return "I8";
    case DType::UInt8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "F32";
}
}  // namespace

void save_safetensors(const std::filesystem::path& file, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (!seen.insert(name).second) throw InvalidArgument("save_safetensors: duplicate tensor name '" + name + "'");
    if (!t.defined()) throw InvalidArgument("save_safetensors: tensor '" + name + "' is undefined");
    header[name] = {
        {"dtype", st_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw RuntimeError("save_safetensors: cannot write " + file.string());
  const std::uint64_t n = h.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors)
    out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
  out.close();
  if (!out) throw RuntimeError("save_safetensors: failed writing " + file.string());
}

}  // namespace ortformers::exporters
