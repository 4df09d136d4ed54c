// libFuzzer target: the safetensors reader on arbitrary bytes must either return tensors that lie inside the input
// or throw an ortformers::Error; never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ortformers;
  try {
    // Zero-copy (borrowing the input) and copying paths.
    auto owner = std::shared_ptr<void>(const_cast<std::uint8_t*>(data), [](void*) {});
    const auto sd = exporters::load_safetensors_from_memory({data, size}, "fuzz.safetensors", owner);
    std::size_t total = 0;
    for (const auto& [name, t] : sd) {
      // Touch every byte so that ASan checks the bounds.
      const auto* p = static_cast<const std::uint8_t*>(t.raw_data());
      for (std::size_t i = 0; i < t.nbytes(); ++i) total += p[i];
    }
    const auto copied = exporters::load_safetensors_from_memory({data, size}, "fuzz.safetensors");
    if (copied.size() != sd.size()) __builtin_trap();
    return static_cast<int>(total & 0);
  } catch (const Error&) {
  }
  return 0;
}
