// pipeline("image-to-text") against transformers 4.31's ImageToTextPipeline outputs (the `pipelines` entries of
// reference/vit-gpt2-tiny.json and pix2struct-tiny.json): texts identical, the recorded errors as the same text.
#include <gtest/gtest.h>

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/image_to_text.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::pipelines;
namespace fs = std::filesystem;

namespace {

Json absolute_paths(const Json& input, const fs::path& fixtures) {
  if (input.is_array()) {
    Json out = Json::array();
    for (const auto& i : input) out.push_back(absolute_paths(i, fixtures));
    return out;
  }
  return (fixtures / input.get<std::string>()).string();
}

void check_reference(const std::string& name) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
  ImageToTextPipeline pipe((fixtures / "onnx" / name).string());
  EXPECT_EQ(pipe.is_pix2struct(), name.rfind("pix2struct", 0) == 0);
  std::size_t cases = 0, errors = 0;
  for (const auto& c : ref.at("pipelines").at("image-to-text")) {
    const std::string id = c.at("input").dump() + " " + c.at("kwargs").dump();
    const Json input = absolute_paths(c.at("input"), fixtures);
    const Json& expected = c.at("output");
    if (expected.is_object() && expected.contains("error")) {
      try {
        pipe.call(input, c.at("kwargs"));
        ADD_FAILURE() << id << ": expected " << expected.at("error");
      } catch (const InvalidArgument& e) {
        // "ValueError: <message>" in the fixture.
        const std::string want = expected.at("error").get<std::string>();
        EXPECT_EQ("ValueError: " + std::string(e.what()), want) << id;
      }
      ++errors;
    } else {
      EXPECT_EQ(pipe.call(input, c.at("kwargs")), expected) << id;
    }
    ++cases;
  }
  EXPECT_GE(cases, 12u);
  std::cout << name << ": " << cases << " pipeline cases (" << errors << " errors) identical\n";
}

TEST(ImageToTextPipeline, VitGpt2MatchesTransformers) {
  check_reference("vit-gpt2-tiny");
}
TEST(ImageToTextPipeline, Pix2StructMatchesTransformers) {
  check_reference("pix2struct-tiny");
}

TEST(ImageToTextPipeline, FactoryTaskDetectionAndBadArguments) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = (fixtures / "onnx" / "vit-gpt2-tiny").string();
  auto pipe = pipeline("image-to-text", dir);
  EXPECT_EQ(pipe->task(), "image-to-text");
  EXPECT_EQ(detect_task(pipe->model()), "image-to-text");
  EXPECT_EQ(default_model("image-to-text")->id, "ydshieh/vit-gpt2-coco-en");
  const std::string image = (fixtures / "media/images/shapes_37x53.png").string();
  EXPECT_THROW(pipe->call(image, Json{{"max_new_tokens", 3}, {"generate_kwargs", {{"max_new_tokens", 4}}}}),
               InvalidArgument);
  EXPECT_THROW(pipe->call(image, Json{{"prompt", 5}}), InvalidArgument);
  EXPECT_THROW(pipe->call(image, Json{{"top_k", 5}}), InvalidArgument);
  EXPECT_THROW(pipe->call(image, Json{{"generate_kwargs", {{"not_a_generate_kwarg", 1}}}}), InvalidArgument);
  EXPECT_THROW(pipe->call(image, Json{{"batch_size", 0}}), InvalidArgument);
  EXPECT_THROW(pipe->call((fixtures / "media/images/missing.png").string()), NotFoundError);
  EXPECT_THROW(pipe->call(Json{{"no_image", 1}}), InvalidArgument);
  // A Pix2Struct list with batch_size 2 and num_return_sequences 2: two records per image.
  auto p2s = pipeline("image-to-text", (fixtures / "onnx" / "pix2struct-tiny").string());
  const Json out =
      p2s->call(Json::array({image, image}),
                Json{{"batch_size", 2},
                     {"generate_kwargs", {{"max_new_tokens", 3}, {"num_beams", 2}, {"num_return_sequences", 2}}}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].size(), 2u);
  EXPECT_EQ(out[0], out[1]);
}

}  // namespace
