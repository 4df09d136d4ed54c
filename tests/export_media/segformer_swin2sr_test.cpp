// Native export of SegFormer and Swin2SR: graph inputs / outputs as optimum's exports declare them, the recorded
// PyTorch outputs within 1e-4 on every recorded image (and the recorded batch), the ORTModelFor* classes with
// export_model, Swin2SR's in-graph padding on sizes that are not multiples of the window, and config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "export/exporter.hpp"
#include "export/ort_runner.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"
#include "ortformers/export/safetensors_writer.hpp"
#include "ortformers/models/image_to_image.hpp"
#include "ortformers/models/semantic_segmentation.hpp"
#include "support/fixtures.hpp"
#include "support/media.hpp"

namespace fs = std::filesystem;
using namespace ortformers;
using namespace ortformers::exporters;
using ortformers::testing::OrtRunner;
namespace media = ortformers::testing::media;
using media::max_abs;
using media::row;
using media::tensor_from_ref;

namespace {

// A dimension of a graph value as the reference JSON writes it: a symbolic name or a number.
Json dim_json(const onnx::TensorShapeProto::Dimension& d) {
  if (d.has_dim_param()) return Json(d.dim_param());
  return Json(d.dim_value());
}

void check_values(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& got, const Json& rec) {
  ASSERT_EQ(static_cast<std::size_t>(got.size()), rec.size());
  for (int i = 0; i < got.size(); ++i) {
    const auto& r = rec[static_cast<std::size_t>(i)];
    EXPECT_EQ(got[i].name(), r.at("name").get<std::string>());
    EXPECT_EQ(got[i].type().tensor_type().elem_type(), r.at("elem_type").get<int>());
    const auto& dims = got[i].type().tensor_type().shape();
    ASSERT_EQ(static_cast<std::size_t>(dims.dim_size()), r.at("shape").size()) << got[i].name();
    for (int d = 0; d < dims.dim_size(); ++d)
      EXPECT_EQ(dim_json(dims.dim(d)), r.at("shape")[static_cast<std::size_t>(d)]) << got[i].name() << " dim " << d;
  }
}

// Exports models/<name> (task inferred) and checks inputs / outputs against optimum's export of it.
BuiltModel export_and_check_io(const fs::path& fixtures, const std::string& name, ExportOptions opts = {}) {
  const Json& ref = media::reference(fixtures, name);
  auto built = build_model(fixtures / "models" / name, opts);
  const Json& rec = ref.at("onnx").at(name);
  check_values(built.model.graph().input(), rec.at("inputs"));
  check_values(built.model.graph().output(), rec.at("outputs"));
  EXPECT_EQ(built.task, rec.at("task").get<std::string>());
  return built;
}

// Every recorded model output, one image at a time; returns the largest difference per image.
void check_model_outputs(const fs::path& fixtures, const std::string& name, OrtRunner& runner,
                         const std::string& output) {
  const Json& ref = media::reference(fixtures, name);
  ASSERT_FALSE(ref.at("model_outputs").empty());
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor pv = tensor_from_ref(fixtures, p.at("pixel_values"));
    const auto out = runner.run(TensorMap{{"pixel_values", pv}});
    const Json& r = media::resolve(fixtures, mo.at("outputs").at(output));
    ASSERT_EQ(shape_to_string(out.at(output).shape()), shape_to_string(media::shape_of(r))) << p.at("image");
    const double d = media::max_diff(out.at(output), r);
    std::cout << "[ parity ] " << name << " " << p.at("image").get<std::string>() << " " << shape_to_string(pv.shape())
              << " -> " << shape_to_string(out.at(output).shape()) << " max abs diff " << d << "\n";
    EXPECT_LE(d, 1e-4) << name << " " << p.at("image");
  }
}

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  std::string old;
  bool had = false;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) {
      had = true;
      old = v;
    }
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had)
      ::setenv(name.c_str(), old.c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

// A copy of models/<name> (config.json and model.safetensors) with config.json edited by `edit`.
fs::path edited_copy(const fs::path& fixtures, const std::string& name, const std::function<void(Json&)>& edit) {
  const fs::path dir = ortformers::testing::make_temp_dir("export-" + name);
  const fs::path src = fixtures / "models" / name;
  fs::copy_file(src / "model.safetensors", dir / "model.safetensors");
  Json cfg = read_json_file(src / "config.json");
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(2);
  return dir;
}

// ------------------------------------------------------------------------------------------------- SegFormer

TEST(ExportSegformer, MatchesOptimumIoAndPyTorchOutputs) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto built = export_and_check_io(fixtures, "segformer-tiny");
  EXPECT_EQ(built.task, "semantic-segmentation");
  OrtRunner runner(built.model);
  check_model_outputs(fixtures, "segformer-tiny", runner, "logits");
}

TEST(ExportSegformer, BatchEqualsRecordedAndOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json& ref = media::reference(fixtures, "segformer-tiny");
  ASSERT_TRUE(ref.contains("batch"));
  auto built = build_model(fixtures / "models" / "segformer-tiny", ExportOptions{});
  OrtRunner runner(built.model);
  std::vector<float> all;
  Shape s;
  for (const auto& i : ref.at("batch").at("preprocessing_indices")) {
    const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(i.get<std::size_t>()).at("pixel_values"));
    auto v = pv.to_float_vector();
    all.insert(all.end(), v.begin(), v.end());
    s = pv.shape();
  }
  s[0] = static_cast<std::int64_t>(ref.at("batch").at("preprocessing_indices").size());
  const Tensor batch = Tensor::from_vector(std::move(all), s);
  const Tensor out = runner.run(TensorMap{{"pixel_values", batch}}).at("logits");
  const double d = media::max_diff(out, media::resolve(fixtures, ref.at("batch").at("outputs").at("logits")));
  std::cout << "[ parity ] segformer-tiny batch " << shape_to_string(s) << " max abs diff " << d << "\n";
  EXPECT_LE(d, 1e-4);
  for (std::int64_t b = 0; b < s[0]; ++b) {
    const Tensor single = runner.run(TensorMap{{"pixel_values", row(batch, b)}}).at("logits");
    EXPECT_LE(max_abs(row(out, b), single), 1e-5) << "batch row " << b;
  }
}

TEST(ExportSegformer, OtherSizesAndOpset14) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // Dynamic height / width (nothing baked in): an odd size runs and gives logits at the conv-arithmetic size, and
  // opset 14 (LayerNormalization decomposed) gives the same logits as opset 17.
  ExportOptions o14;
  o14.opset = 14;
  OrtRunner r17(build_model(fixtures / "models" / "segformer-tiny", ExportOptions{}).model);
  OrtRunner r14(build_model(fixtures / "models" / "segformer-tiny", o14).model);
  std::vector<float> v(2 * 3 * 37 * 53);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
  const Tensor pv = Tensor::from_vector(std::move(v), {2, 3, 37, 53});
  const Tensor a = r17.run(TensorMap{{"pixel_values", pv}}).at("logits");
  const Tensor b = r14.run(TensorMap{{"pixel_values", pv}}).at("logits");
  // (37 + 2*3 - 7) / 4 + 1 = 10, (53 + 6 - 7) / 4 + 1 = 14
  EXPECT_EQ(shape_to_string(a.shape()), shape_to_string(Shape{2, 4, 10, 14}));
  EXPECT_LE(max_abs(a, b), 1e-5);
}

TEST(ExportSegformer, FeatureExtraction) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ExportOptions o;
  o.task = "feature-extraction";
  auto built = build_model(fixtures / "models" / "segformer-tiny", o);
  ASSERT_EQ(built.output_names, std::vector<std::string>{"last_hidden_state"});
  OrtRunner runner(built.model);
  const Json& ref = media::reference(fixtures, "segformer-tiny");
  const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));
  const Tensor out = runner.run(TensorMap{{"pixel_values", pv}}).at("last_hidden_state");
  EXPECT_EQ(shape_to_string(out.shape()), shape_to_string(Shape{1, 32, 2, 2}));
}

TEST(ExportSegformer, ORTModelForSemanticSegmentationExports) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ScopedEnv cache("ORTFORMERS_CACHE", ortformers::testing::make_temp_dir("segformer-cache").string());
  models::ModelOptions opts;
  opts.export_model = true;
  const auto model =
      models::ORTModelForSemanticSegmentation::from_pretrained((fixtures / "models" / "segformer-tiny").string(), opts);
  const Json& ref = media::reference(fixtures, "segformer-tiny");
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor out = model.forward(tensor_from_ref(fixtures, p.at("pixel_values"))).logits;
    EXPECT_LE(media::max_diff(out, media::resolve(fixtures, mo.at("outputs").at("logits"))), 1e-4) << p.at("image");
  }
}

TEST(ExportSegformer, ConfigErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = edited_copy(fixtures, "segformer-tiny", [](Json& c) { c["reshape_last_stage"] = false; });
  try {
    build_model(dir, ExportOptions{});
    FAIL() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("reshape_last_stage"), std::string::npos) << e.what();
  }
  // A config that disagrees with the checkpoint's shapes: InvalidArgument naming the tensor.
  const auto dir2 = edited_copy(fixtures, "segformer-tiny", [](Json& c) { c["decoder_hidden_size"] = 16; });
  EXPECT_THROW(build_model(dir2, ExportOptions{}), InvalidArgument);
  fs::remove_all(dir);
  fs::remove_all(dir2);
}

// --------------------------------------------------------------------------------------------------- Swin2SR

// x reflect-padded at the bottom / right to [.., h, w] (numpy / torch "reflect": the edge is not repeated).
Tensor reflect_pad(const Tensor& x, std::int64_t h, std::int64_t w) {
  const auto& s = x.shape();
  const std::int64_t n = s[0] * s[1], H = s[2], W = s[3];
  auto v = x.to_float_vector();
  std::vector<float> out(static_cast<std::size_t>(n * h * w));
  auto refl = [](std::int64_t i, std::int64_t len) { return i < len ? i : 2 * (len - 1) - i; };
  for (std::int64_t c = 0; c < n; ++c)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t z = 0; z < w; ++z)
        out[static_cast<std::size_t>((c * h + y) * w + z)] =
            v[static_cast<std::size_t>((c * H + refl(y, H)) * W + refl(z, W))];
  return Tensor::from_vector(std::move(out), {s[0], s[1], h, w});
}

// x[:, :, :h, :w]
Tensor crop(const Tensor& x, std::int64_t h, std::int64_t w) {
  const auto& s = x.shape();
  const std::int64_t n = s[0] * s[1], H = s[2], W = s[3];
  auto v = x.to_float_vector();
  std::vector<float> out;
  for (std::int64_t c = 0; c < n; ++c)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t z = 0; z < w; ++z) out.push_back(v[static_cast<std::size_t>((c * H + y) * W + z)]);
  (void)H;
  return Tensor::from_vector(std::move(out), {s[0], s[1], h, w});
}

TEST(ExportSwin2SR, MatchesOptimumIoAndPyTorchOutputs) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto built = export_and_check_io(fixtures, "swin2sr-tiny");
  EXPECT_EQ(built.task, "image-to-image");
  OrtRunner runner(built.model);
  check_model_outputs(fixtures, "swin2sr-tiny", runner, "reconstruction");
}

TEST(ExportSwin2SR, Opset14MatchesPyTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ExportOptions o14;
  o14.opset = 14;
  OrtRunner runner(build_model(fixtures / "models" / "swin2sr-tiny", o14).model);
  check_model_outputs(fixtures, "swin2sr-tiny", runner, "reconstruction");
}

TEST(ExportSwin2SR, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // No recorded batch (every image pads to its own size): an image and its reversed copy in one batch.
  const Json& ref = media::reference(fixtures, "swin2sr-tiny");
  OrtRunner runner(build_model(fixtures / "models" / "swin2sr-tiny", ExportOptions{}).model);
  const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));
  const Tensor batch = media::stack({pv, media::reversed(pv)});
  const Tensor out = runner.run(TensorMap{{"pixel_values", batch}}).at("reconstruction");
  EXPECT_LE(media::max_diff(row(out, 0),
                            media::resolve(fixtures, ref.at("model_outputs").at(0).at("outputs").at("reconstruction"))),
            1e-4);
  for (std::int64_t b = 0; b < 2; ++b) {
    const Tensor single = runner.run(TensorMap{{"pixel_values", row(batch, b)}}).at("reconstruction");
    EXPECT_LE(max_abs(row(out, b), single), 1e-5) << "batch row " << b;
  }
}

TEST(ExportSwin2SR, PadsInsideTheGraphForSizesOffTheWindow) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // transformers' Swin2SR cannot run sizes off the window multiple (it unembeds at the unpadded size); the exported
  // graph reflect-pads them and crops the output, so its result equals running the padded image and cropping.
  const Json& ref = media::reference(fixtures, "swin2sr-tiny");
  OrtRunner runner(build_model(fixtures / "models" / "swin2sr-tiny", ExportOptions{}).model);
  const Tensor full = tensor_from_ref(fixtures, ref.at("preprocessing").at(1).at("pixel_values"));  // [1, 3, 56, 40]
  for (auto [h, w] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{53, 37}, {49, 40}, {56, 33}, {9, 12}, {5, 7}}) {
    const Tensor x = crop(full, h, w);
    const Tensor out = runner.run(TensorMap{{"pixel_values", x}}).at("reconstruction");
    ASSERT_EQ(shape_to_string(out.shape()), shape_to_string(Shape{1, 3, 2 * h, 2 * w}));
    const std::int64_t hp = (h + 7) / 8 * 8, wp = (w + 7) / 8 * 8;
    const Tensor padded = runner.run(TensorMap{{"pixel_values", reflect_pad(x, hp, wp)}}).at("reconstruction");
    const double d = max_abs(out, crop(padded, 2 * h, 2 * w));
    std::cout << "[ padding ] swin2sr-tiny " << h << "x" << w << " vs padded " << hp << "x" << wp << " max abs diff "
              << d << "\n";
    EXPECT_LE(d, 1e-5) << h << "x" << w;
  }
}

TEST(ExportSwin2SR, FeatureExtraction) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ExportOptions o;
  o.task = "feature-extraction";
  auto built = build_model(fixtures / "models" / "swin2sr-tiny", o);
  ASSERT_EQ(built.output_names, std::vector<std::string>{"last_hidden_state"});
  OrtRunner runner(built.model);
  const Json& ref = media::reference(fixtures, "swin2sr-tiny");
  const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));  // [1, 3, 56, 72]
  const Tensor out = runner.run(TensorMap{{"pixel_values", pv}}).at("last_hidden_state");
  EXPECT_EQ(shape_to_string(out.shape()), shape_to_string(Shape{1, 16, 56, 72}));
}

TEST(ExportSwin2SR, ORTModelForImageToImageExports) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  ScopedEnv cache("ORTFORMERS_CACHE", ortformers::testing::make_temp_dir("swin2sr-cache").string());
  models::ModelOptions opts;
  opts.export_model = true;
  const auto model =
      models::ORTModelForImageToImage::from_pretrained((fixtures / "models" / "swin2sr-tiny").string(), opts);
  const Json& ref = media::reference(fixtures, "swin2sr-tiny");
  for (const auto& mo : ref.at("model_outputs")) {
    const auto& p = ref.at("preprocessing").at(mo.at("preprocessing_index").get<std::size_t>());
    const Tensor out = model.forward(tensor_from_ref(fixtures, p.at("pixel_values"))).reconstruction;
    EXPECT_LE(media::max_diff(out, media::resolve(fixtures, mo.at("outputs").at("reconstruction"))), 1e-4)
        << p.at("image");
  }
}

TEST(ExportSwin2SR, ConfigErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto expect_unsupported = [&](const std::function<void(Json&)>& edit, const std::string& field,
                                const std::string& value) {
    const auto dir = edited_copy(fixtures, "swin2sr-tiny", edit);
    try {
      build_model(dir, ExportOptions{});
      ADD_FAILURE() << "expected UnsupportedError naming " << field;
    } catch (const UnsupportedError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(value), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
  };
  expect_unsupported([](Json& c) { c["upsampler"] = "bicubic-magic"; }, "upsampler", "bicubic-magic");
  expect_unsupported([](Json& c) { c["upsampler"] = "pixelshuffle_aux"; }, "upsampler", "pixelshuffle_aux");
  expect_unsupported([](Json& c) { c["upscale"] = 5; }, "upscale", "5");
  expect_unsupported([](Json& c) { c["resi_connection"] = "2conv"; }, "resi_connection", "2conv");
  expect_unsupported([](Json& c) { c["patch_size"] = 2; }, "patch_size", "2");
  // Another upsampler needs tensors this checkpoint does not have: NotFoundError naming one.
  const auto dir = edited_copy(fixtures, "swin2sr-tiny", [](Json& c) { c["upsampler"] = "pixelshuffledirect"; });
  try {
    build_model(dir, ExportOptions{});
    ADD_FAILURE() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("upsample.conv.weight"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// A Swin2SR checkpoint folder made from swin2sr-tiny: its base weights (no "upsample.*"), `extra` tensors, and
// config.json edited by `edit`.
fs::path synthetic_swin2sr(const fs::path& fixtures, const std::function<void(Json&)>& edit,
                           const std::vector<std::pair<std::string, Tensor>>& extra) {
  const fs::path dir = ortformers::testing::make_temp_dir("export-swin2sr-synthetic");
  const fs::path src = fixtures / "models" / "swin2sr-tiny";
  const StateDict sd = load_checkpoint(src);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : sd)
    if (name.rfind("upsample.", 0) != 0) tensors.emplace_back(name, t);
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  save_safetensors(dir / "model.safetensors", tensors);
  Json cfg = read_json_file(src / "config.json");
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(2);
  return dir;
}

Tensor filled(const Shape& shape, const std::function<float(std::int64_t)>& f) {
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = f(static_cast<std::int64_t>(i));
  return Tensor::from_vector(std::move(v), shape);
}

constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

TEST(ExportSwin2SR, PixelShuffleDirectIsChannelMajorLikeTorch) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // upsample.conv with zero weights and bias b: out[c, 2y + i, 2x + j] = b[c * 4 + i * 2 + j] + mean[c]
  // (nn.PixelShuffle's channel order).
  const auto dir = synthetic_swin2sr(
      fixtures, [](Json& c) { c["upsampler"] = "pixelshuffledirect"; },
      {{"upsample.conv.weight", filled({12, 16, 3, 3}, [](std::int64_t) { return 0.0f; })},
       {"upsample.conv.bias", filled({12}, [](std::int64_t i) { return 0.1f * static_cast<float>(i); })}});
  OrtRunner runner(build_model(dir, ExportOptions{}).model);
  const Tensor x = filled({1, 3, 11, 13}, [](std::int64_t i) { return std::sin(0.1f * static_cast<float>(i)); });
  const Tensor out = runner.run(TensorMap{{"pixel_values", x}}).at("reconstruction");
  ASSERT_EQ(shape_to_string(out.shape()), shape_to_string(Shape{1, 3, 22, 26}));
  const auto v = out.to_float_vector();
  double m = 0;
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t y = 0; y < 22; ++y)
      for (std::int64_t z = 0; z < 26; ++z) {
        const float want = 0.1f * static_cast<float>(c * 4 + (y % 2) * 2 + z % 2) + kRgbMean[c];
        m = std::max(m, std::fabs(static_cast<double>(v[static_cast<std::size_t>((c * 22 + y) * 26 + z)]) - want));
      }
  EXPECT_LE(m, 1e-6);
  fs::remove_all(dir);
}

TEST(ExportSwin2SR, NoUpsamplerAddsTheInput) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // No upsampler (denoising head): reconstruction = pixel_values + final_convolution(features), denormalised;
  // with a zero final convolution that is pixel_values + mean.
  const auto dir =
      synthetic_swin2sr(fixtures,
                        [](Json& c) {
                          c["upsampler"] = "";
                          c["upscale"] = 1;
                        },
                        {{"final_convolution.weight", filled({3, 16, 3, 3}, [](std::int64_t) { return 0.0f; })},
                         {"final_convolution.bias", filled({3}, [](std::int64_t) { return 0.0f; })}});
  OrtRunner runner(build_model(dir, ExportOptions{}).model);
  const Tensor x = filled({2, 3, 16, 24}, [](std::int64_t i) { return std::cos(0.05f * static_cast<float>(i)); });
  const Tensor out = runner.run(TensorMap{{"pixel_values", x}}).at("reconstruction");
  ASSERT_EQ(shape_to_string(out.shape()), shape_to_string(x.shape()));
  const auto a = out.to_float_vector(), b = x.to_float_vector();
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t c = (i / (16 * 24)) % 3;
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - (b[i] + kRgbMean[c])));
  }
  EXPECT_LE(m, 1e-6);
  fs::remove_all(dir);
}

TEST(ExportSwin2SR, NearestConvAnd3ConvAndUpscale4Run) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto conv = [](const std::string& name, std::int64_t out, std::int64_t in, std::int64_t k) {
    return std::vector<std::pair<std::string, Tensor>>{
        {name + ".weight",
         filled({out, in, k, k}, [](std::int64_t i) { return 0.01f * std::sin(static_cast<float>(i)); })},
        {name + ".bias", filled({out}, [](std::int64_t i) { return 0.01f * static_cast<float>(i % 7); })}};
  };
  std::vector<std::pair<std::string, Tensor>> nearest;
  for (auto* part : {"conv_before_upsample"}) {
    auto t = conv(std::string("upsample.") + part, 64, 16, 3);
    nearest.insert(nearest.end(), t.begin(), t.end());
  }
  for (auto* part : {"conv_up1", "conv_up2", "conv_hr"}) {
    auto t = conv(std::string("upsample.") + part, 64, 64, 3);
    nearest.insert(nearest.end(), t.begin(), t.end());
  }
  auto fin = conv("upsample.final_convolution", 3, 64, 3);
  nearest.insert(nearest.end(), fin.begin(), fin.end());
  const Tensor x = filled({1, 3, 16, 8}, [](std::int64_t i) { return std::sin(0.3f * static_cast<float>(i)); });
  {
    const auto dir = synthetic_swin2sr(
        fixtures,
        [](Json& c) {
          c["upsampler"] = "nearest+conv";
          c["upscale"] = 4;
        },
        nearest);
    OrtRunner runner(build_model(dir, ExportOptions{}).model);
    EXPECT_EQ(shape_to_string(runner.run(TensorMap{{"pixel_values", x}}).at("reconstruction").shape()),
              shape_to_string(Shape{1, 3, 64, 32}));
    fs::remove_all(dir);
  }
  {
    // pixelshuffle x4 (two conv + shuffle steps) with the 3conv residual connection.
    std::vector<std::pair<std::string, Tensor>> t = conv("upsample.conv_before_upsample", 64, 16, 3);
    for (auto& e : conv("upsample.upsample.convolution_0", 256, 64, 3)) t.push_back(e);
    for (auto& e : conv("upsample.upsample.convolution_1", 256, 64, 3)) t.push_back(e);
    for (auto& e : conv("upsample.final_convolution", 3, 64, 3)) t.push_back(e);
    for (auto& e : conv("swin2sr.encoder.stages.0.conv.0", 4, 16, 3)) t.push_back(e);
    for (auto& e : conv("swin2sr.encoder.stages.0.conv.2", 4, 4, 1)) t.push_back(e);
    for (auto& e : conv("swin2sr.encoder.stages.0.conv.4", 16, 4, 3)) t.push_back(e);
    const auto dir = synthetic_swin2sr(
        fixtures,
        [](Json& c) {
          c["upscale"] = 4;
          c["resi_connection"] = "3conv";
        },
        t);
    OrtRunner runner(build_model(dir, ExportOptions{}).model);
    EXPECT_EQ(shape_to_string(runner.run(TensorMap{{"pixel_values", x}}).at("reconstruction").shape()),
              shape_to_string(Shape{1, 3, 64, 32}));
    fs::remove_all(dir);
  }
}

TEST(ExportSegformerSwin2SR, OptimizeAndQuantizeOptions) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  // --optimize has no fused form for these graphs: the plain graph, same outputs. int8 quantisation runs.
  for (const auto& [name, output] : std::vector<std::pair<std::string, std::string>>{
           {"segformer-tiny", "logits"}, {"swin2sr-tiny", "reconstruction"}}) {
    ExportOptions opt;
    opt.optimize = true;
    OrtRunner runner(build_model(fixtures / "models" / name, opt).model);
    check_model_outputs(fixtures, name, runner, output);
    ExportOptions q;
    q.quantize = "int8";
    OrtRunner qrunner(build_model(fixtures / "models" / name, q).model);
    const Json& ref = media::reference(fixtures, name);
    const Tensor pv = tensor_from_ref(fixtures, ref.at("preprocessing").at(0).at("pixel_values"));
    const Tensor out = qrunner.run(TensorMap{{"pixel_values", pv}}).at(output);
    EXPECT_EQ(shape_to_string(out.shape()), shape_to_string(media::shape_of(media::resolve(
                                                fixtures, ref.at("model_outputs").at(0).at("outputs").at(output)))));
  }
}

}  // namespace
