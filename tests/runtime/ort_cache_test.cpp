// SessionOptions::ort_format_cache_dir: the optimised graph kept in ORT format and memory-mapped on later loads.
#include <gtest/gtest.h>

#include "ortformers/runtime/session.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
namespace fs = std::filesystem;

namespace {

TensorMap bert_inputs() {
  return {{"input_ids", Tensor::from_values<std::int64_t>({101, 7592, 2088, 999, 102}, {1, 5})},
          {"attention_mask", Tensor::from_values<std::int64_t>({1, 1, 1, 1, 1}, {1, 5})},
          {"token_type_ids", Tensor::zeros(DType::Int64, {1, 5})}};
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".ort";
  return n;
}

TEST(OrtFormatCache, SecondLoadIsMappedAndGivesIdenticalOutputs) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto model = fixtures / "onnx" / "bert-tiny" / "model.onnx";
  const auto cache = ortformers::testing::make_temp_dir("ortcache");
  runtime::Session plain(model);
  const auto expected = plain.run(bert_inputs()).at("last_hidden_state").to_float_vector();

  runtime::SessionOptions o;
  o.ort_format_cache_dir = cache;
  runtime::Session first(model, o);
  EXPECT_FALSE(first.loaded_from_ort_cache());
  EXPECT_EQ(count_files(cache), 1u);
  EXPECT_EQ(first.run(bert_inputs()).at("last_hidden_state").to_float_vector(), expected);

  runtime::Session second(model, o);
  EXPECT_TRUE(second.loaded_from_ort_cache());
  EXPECT_EQ(second.inputs().size(), plain.inputs().size());
  EXPECT_EQ(second.run(bert_inputs()).at("last_hidden_state").to_float_vector(), expected);

  // Other options key another file.
  runtime::SessionOptions basic = o;
  basic.graph_optimization_level = runtime::GraphOptimizationLevel::Basic;
  runtime::Session third(model, basic);
  EXPECT_FALSE(third.loaded_from_ort_cache());
  EXPECT_EQ(count_files(cache), 2u);
  fs::remove_all(cache);
}

TEST(OrtFormatCache, CorruptCacheFileIsRebuilt) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto model = fixtures / "onnx" / "bert-tiny" / "model.onnx";
  const auto cache = ortformers::testing::make_temp_dir("ortcache-bad");
  runtime::SessionOptions o;
  o.ort_format_cache_dir = cache;
  { runtime::Session s(model, o); }
  fs::path file;
  for (const auto& e : fs::directory_iterator(cache)) file = e.path();
  ASSERT_FALSE(file.empty());
  write_text_file(file, "not an ORT flatbuffer");
  runtime::Session s(model, o);  // falls back to the .onnx and rewrites the cache
  EXPECT_FALSE(s.loaded_from_ort_cache());
  EXPECT_GT(fs::file_size(file), 1000u);
  runtime::Session again(model, o);
  EXPECT_TRUE(again.loaded_from_ort_cache());
  fs::remove_all(cache);
}

}  // namespace
