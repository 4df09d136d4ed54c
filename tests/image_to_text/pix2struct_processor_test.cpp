// Pix2StructImageProcessor against transformers 4.31's outputs in reference/pix2struct-tiny.json.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/pix2struct_image_processor.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::preprocessing;
using ortformers::testing::max_abs_diff;
using ortformers::testing::ref_tensor;

namespace {

Json pix2struct_reference(const std::filesystem::path& fixtures) {
  return read_json_file(fixtures / "reference" / "pix2struct-tiny.json");
}

}  // namespace

TEST(Pix2StructImageProcessor, EveryFixtureImageMatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = pix2struct_reference(fixtures);
  const auto processor = Pix2StructImageProcessor::from_pretrained(fixtures / "models" / "pix2struct-tiny");
  EXPECT_EQ(processor.config().max_patches, 48);
  EXPECT_EQ(processor.config().patch_height, 8);
  ASSERT_GE(ref.at("preprocessing").size(), 6u);
  for (const auto& e : ref.at("preprocessing")) {
    const std::string name = e.at("image").get<std::string>();
    SCOPED_TRACE(name);
    const Image image = load_image(fixtures / name);
    int real = 0;
    const auto one = processor.extract_flattened_patches(image, processor.config().max_patches, &real);
    EXPECT_EQ(real, e.at("real_patches").get<int>());
    const auto out = processor({image});
    EXPECT_LE(max_abs_diff(out.flattened_patches, ref_tensor(e.at("flattened_patches"))), 1e-5);
    EXPECT_EQ(max_abs_diff(out.attention_mask, ref_tensor(e.at("attention_mask"))), 0.0);
    const float* p = out.flattened_patches.data<float>();
    for (std::size_t i = 0; i < one.size(); ++i)
      ASSERT_EQ(one[i], p[i]) << "extract_flattened_patches differs at " << i;
  }
}

TEST(Pix2StructImageProcessor, BatchEqualsStackedSingles) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = pix2struct_reference(fixtures);
  const auto processor = Pix2StructImageProcessor::from_pretrained(fixtures / "models" / "pix2struct-tiny");
  const Json& batch = ref.at("preprocessing_batch");
  ASSERT_TRUE(batch.at("equal_to_stacked_single_results").get<bool>());
  std::vector<Image> images;
  for (const auto& path : batch.at("images")) images.push_back(load_image(fixtures / path.get<std::string>()));
  ASSERT_GE(images.size(), 2u);
  const auto out = processor(images);
  const auto row = out.flattened_patches.numel() / static_cast<std::int64_t>(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto single = processor({images[i]});
    const float* a = out.flattened_patches.data<float>() + static_cast<std::int64_t>(i) * row;
    const float* b = single.flattened_patches.data<float>();
    for (std::int64_t k = 0; k < row; ++k) ASSERT_EQ(a[k], b[k]) << "image " << i << " value " << k;
  }
}

TEST(Pix2StructImageProcessor, MaxPatchesOverrideKeepsTheGridInsideTheBudget) {
  Pix2StructImageProcessorConfig c;
  c.patch_height = c.patch_width = 4;
  const Pix2StructImageProcessor processor(c);
  Image wide{200, 10, 3, std::vector<std::uint8_t>(200 * 10 * 3)};
  for (std::size_t i = 0; i < wide.pixels.size(); ++i) wide.pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
  for (int mp : {1, 5, 16, 64}) {
    int real = 0;
    const auto out = processor.extract_flattened_patches(wide, mp, &real);
    EXPECT_GE(real, 1);
    EXPECT_LE(real, mp);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(mp) * (2 + 4 * 4 * 3));
    // Ids are 1-based on real patches and 0 on padding.
    for (int p = 0; p < mp; ++p) EXPECT_EQ(out[static_cast<std::size_t>(p) * 50] >= 1.0f, p < real) << mp << " " << p;
  }
  // A uniform image: zero variance, the 1/sqrt(n) floor keeps the values finite (all zero after standardisation).
  Image flat{16, 16, 3, std::vector<std::uint8_t>(16 * 16 * 3, 77)};
  const auto out = processor({flat}, 16);
  const float* p = out.flattened_patches.data<float>();
  for (std::int64_t i = 0; i < out.flattened_patches.numel(); ++i) ASSERT_TRUE(std::isfinite(p[i]));
}

TEST(Pix2StructImageProcessor, BadConfigAndInputsGiveClearErrors) {
  const auto tmp = ortformers::testing::make_temp_dir("pix2struct-bad");
  auto write = [&](const std::string& text) {
    std::ofstream(tmp / "preprocessor_config.json") << text;
    return tmp;
  };
  EXPECT_THROW(Pix2StructImageProcessor::from_pretrained(write(R"({"image_processor_type": "ViTImageProcessor"})")),
               FileFormatError);
  try {
    Pix2StructImageProcessor::from_pretrained(
        write(R"({"image_processor_type": "Pix2StructImageProcessor", "max_patches": -3})"));
    FAIL() << "no error";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("max_patches"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Pix2StructImageProcessor::from_pretrained(
                   write(R"({"image_processor_type": "Pix2StructImageProcessor", "patch_size": {"height": "8"}})")),
               FileFormatError);
  Pix2StructImageProcessorConfig vqa;
  vqa.is_vqa = true;
  Image img{8, 8, 3, std::vector<std::uint8_t>(8 * 8 * 3, 1)};
  const Pix2StructImageProcessor vqa_processor(vqa);
  try {
    vqa_processor({img});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "A header text must be provided for VQA models.");
  }
  EXPECT_THROW(vqa_processor({img}, std::nullopt, {"What?"}), UnsupportedError);
  const Pix2StructImageProcessor plain;
  EXPECT_THROW(plain({}), InvalidArgument);
  EXPECT_THROW(plain({Image{}}), InvalidArgument);
}
