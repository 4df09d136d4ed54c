#pragma once
// Helpers of the tests that compare image-to-text models (ORTModelForVision2Seq, ORTModelForPix2Struct) with the
// reference JSON of the image-to-text fixtures (reference/vit-gpt2-tiny.json, reference/pix2struct-tiny.json): the
// processor outputs of the images behind a `generate_inputs` key as model inputs, all-ones masks, a batch row.
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/models/vision2seq.hpp"
#include "ortformers/preprocessing/image_processor.hpp"
#include "ortformers/preprocessing/pix2struct_image_processor.hpp"
#include "support/generative_reference.hpp"

namespace ortformers::testing {

inline bool is_pix2struct(const std::string& name) {
  return name.rfind("pix2struct", 0) == 0;
}

// The processor outputs of the images behind a `generate_inputs` / forward `input` key of reference/<name>.json
// (the processor of fixtures/models/<name>), as the model's inputs: pixel_values, or flattened_patches +
// attention_mask.
inline TensorMap image_to_text_inputs(const std::filesystem::path& fixtures, const std::string& name,
                                      const std::string& key) {
  std::vector<preprocessing::Image> images;
  for (const auto& p : cached_reference(fixtures, name).at("generate_inputs").at(key))
    images.push_back(preprocessing::load_image(fixtures / p.get<std::string>()));
  const std::filesystem::path model_dir = fixtures / "models" / name;
  if (is_pix2struct(name)) {
    const auto out = preprocessing::Pix2StructImageProcessor::from_pretrained(model_dir)(images);
    return {{"flattened_patches", out.flattened_patches}, {"attention_mask", out.attention_mask}};
  }
  return {{"pixel_values", preprocessing::ImageProcessor::from_pretrained(model_dir)(images)}};
}

// int64 ones [rows, cols].
inline Tensor ones_mask(std::int64_t rows, std::int64_t cols) {
  return Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(rows * cols), 1), {rows, cols});
}

// Row r of a batch tensor (any dtype), as a batch of one.
inline Tensor batch_row(const Tensor& t, std::int64_t r) {
  Shape shape = t.shape();
  shape[0] = 1;
  Tensor out = Tensor::zeros(t.dtype(), shape);
  const std::size_t bytes = out.nbytes();
  std::memcpy(out.raw_data(), static_cast<const char*>(t.raw_data()) + static_cast<std::size_t>(r) * bytes, bytes);
  return out;
}

}  // namespace ortformers::testing
