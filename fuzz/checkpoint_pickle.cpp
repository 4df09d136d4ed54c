// libFuzzer target: the restricted torch unpickler (state-dict pickle with synthetic storages) and the
// pytorch_model.bin reader (zip or legacy layout) on arbitrary bytes must return tensors or throw an
// ortformers::Error; never crash, run code, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace {

void touch(const ortformers::exporters::StateDict& sd) {
  volatile std::uint8_t sink = 0;
  for (const auto& [name, t] : sd) {
    const auto* p = static_cast<const std::uint8_t*>(t.raw_data());
    for (std::size_t i = 0; i < t.nbytes(); ++i) sink = static_cast<std::uint8_t>(sink + p[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers;
  // Storages of up to 1 MiB are zero-filled buffers of exactly the requested size; larger ones are refused.
  exporters::StorageResolver resolve = [](const std::string&, DType dtype, std::int64_t numel) {
    exporters::PickleStorage s;
    const auto n = static_cast<std::size_t>(numel) * dtype_size(dtype);
    if (numel < 0 || n > (1u << 20)) return s;
    auto buffer = std::make_shared<std::vector<std::uint8_t>>(n);
    s.data = buffer->data();
    s.nbytes = n;
    s.owner = buffer;
    return s;
  };
  try {
    touch(exporters::load_state_dict_pickle({data, size}, resolve, "fuzz.pkl"));
  } catch (const Error&) {
  }
  try {
    touch(exporters::load_pytorch_bin_from_memory({data, size}, "fuzz.bin"));
  } catch (const Error&) {
  }
  return 0;
}
