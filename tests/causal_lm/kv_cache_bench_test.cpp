// KV-cache cost per decoding step, IO-bound ping-pong buffers vs ORT's own present outputs (the figures of
// docs/generation.md "KV cache"). Disabled by default (timings, not a check); run with
//   build/test_causal_lm --gtest_also_run_disabled_tests --gtest_filter='*KvCacheBench*'
// Both modes must still give identical logits, which the benchmark checks. The same synthetic graph in float16
// checks (enabled) that a float16 export keeps a float16 cache.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "export/graph/graph_builder.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;
using ortformers::exporters::attr;
namespace fs = std::filesystem;

namespace {

constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;
constexpr int kInt64 = onnx::TensorProto_DataType_INT64;

// A graph with optimum's causal-LM interface and a real model's cache shape but almost no compute: per layer
// present = Concat(past, new) (the copy every exported decoder makes) and a reduction reading the whole present
// (standing in for attention), logits [batch, seq, vocab] from that. What it measures is the cache handling.
// half: the cache and the logits in float16 (a float16 export), computed in float32 inside.
fs::path write_cache_graph(std::int64_t layers, std::int64_t heads, std::int64_t head_dim, std::int64_t vocab,
                           bool half = false) {
  const int cache_type = half ? onnx::TensorProto_DataType_FLOAT16 : kFloat;
  exporters::GraphBuilder g(14);
  using exporters::Dim;
  const Dim b = std::string("batch_size"), s = std::string("sequence_length"), p = std::string("past_sequence_length"),
            t = std::string("total_sequence_length");
  g.add_input("input_ids", kInt64, {b, s});
  g.add_input("attention_mask", kInt64, {b, t});
  g.add_input("position_ids", kInt64, {b, s});
  auto x = g.node("/x", "Unsqueeze", {"input_ids", g.const_i64({1, 3})});
  x = g.node("/x", "Cast", {x}, {attr("to", kFloat)});
  x = g.node("/x", "Mul", {x, g.const_f32({1e-4f}, {})});
  auto fresh =
      g.node("/new", "Mul", {x, g.const_f32(std::vector<float>(heads * head_dim, 1.0f), {1, heads, 1, head_dim})});
  if (half) fresh = g.node("/new", "Cast", {fresh}, {attr("to", cache_type)});
  std::string acc;
  for (std::int64_t l = 0; l < layers; ++l) {
    for (const char* kv : {"key", "value"}) {
      const std::string past = "past_key_values." + std::to_string(l) + "." + kv;
      const std::string present = "present." + std::to_string(l) + "." + kv;
      g.add_input(past, cache_type, {b, heads, p, head_dim});
      auto c = g.node("/layer" + std::to_string(l), "Concat", {past, fresh}, {attr("axis", 2)});
      g.rename_value(c, present);
      g.add_output(present, cache_type, {b, heads, std::string("present_sequence_length"), head_dim});
      const auto wide = half ? g.node("/layer" + std::to_string(l), "Cast", {present}, {attr("to", kFloat)}) : present;
      auto r = g.node("/layer" + std::to_string(l), "ReduceMean", {wide},
                      {attr("axes", std::vector<std::int64_t>{1, 2, 3}), attr("keepdims", 1)});
      acc = acc.empty() ? r : g.node("/acc", "Add", {acc, r});
    }
  }
  acc = g.node("/acc", "Squeeze", {acc, g.const_i64({3})});  // [b, 1, 1]
  auto ids = g.node("/ids", "Unsqueeze", {"input_ids", g.const_i64({2})});
  ids = g.node("/ids", "Cast", {ids}, {attr("to", kFloat)});
  std::vector<float> row(static_cast<std::size_t>(vocab));
  for (std::int64_t v = 0; v < vocab; ++v) row[v] = static_cast<float>((v * 7919) % 1000) * 1e-3f;
  auto logits = g.node("/logits", "Mul", {ids, g.const_f32(row, {1, 1, vocab})});
  logits = g.node("/logits", "Add", {logits, acc});
  if (half) logits = g.node("/logits", "Cast", {logits}, {attr("to", cache_type)});
  g.rename_value(logits, "logits");
  g.add_output("logits", cache_type, {b, s, vocab});
  auto model = g.finish("bench");
  const fs::path dir = ortformers::testing::make_temp_dir("kv_cache_bench");
  exporters::save_model(model, dir / "model.onnx");
  Json cfg = {{"model_type", "llama"},          {"num_hidden_layers", layers},     {"num_attention_heads", heads},
              {"num_key_value_heads", heads},   {"hidden_size", heads * head_dim}, {"vocab_size", vocab},
              {"max_position_embeddings", 4096}};
  write_text_file(dir / "config.json", cfg.dump());
  return dir;
}

struct Timing {
  double first_ms = 0, step_ms = 0, select_ms = 0;
  std::vector<float> last_logits;
};

// Prompt of `prompt` tokens on `rows` rows, then `steps` one-token steps; every 10th step also reorders the rows
// (a beam-search-like select_rows).
Timing run(const ORTModelForCausalLM& m, std::int64_t rows, std::int64_t prompt, int steps) {
  using clock = std::chrono::steady_clock;
  auto state = m.start();
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows * prompt));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>((i * 31 + 7) % 1000);
  std::int64_t total = prompt;
  Timing t;
  auto t0 = clock::now();
  Tensor logits = state->step(Tensor::from_vector(ids, {rows, prompt}),
                              Tensor::from_vector(std::vector<std::int64_t>(rows * total, 1), {rows, total}));
  t.first_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  std::vector<std::int64_t> reverse(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) reverse[r] = rows - 1 - r;
  double step_total = 0, select_total = 0;
  int selects = 0;
  for (int i = 0; i < steps; ++i) {
    ++total;
    std::vector<std::int64_t> next(static_cast<std::size_t>(rows), (i * 13) % 1000);
    t0 = clock::now();
    logits = state->step(Tensor::from_vector(next, {rows, 1}),
                         Tensor::from_vector(std::vector<std::int64_t>(rows * total, 1), {rows, total}));
    step_total += std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (i % 10 == 9) {
      t0 = clock::now();
      state->select_rows(reverse);
      select_total += std::chrono::duration<double, std::milli>(clock::now() - t0).count();
      ++selects;
    }
  }
  t.step_ms = step_total / steps;
  t.select_ms = selects ? select_total / selects : 0;
  t.last_logits = logits.to_vector<float>();
  return t;
}

void compare_modes(const std::string& label, const fs::path& dir, std::int64_t rows, std::int64_t prompt, int steps) {
  Timing results[2];
  for (int binding = 0; binding < 2; ++binding) {
    CausalLMOptions o;
    o.io_binding = binding == 1;
    o.base.session.intra_op_num_threads = 1;
    const auto m = ORTModelForCausalLM::from_pretrained(dir.string(), o);
    run(m, rows, prompt, 5);  // warm-up
    results[binding] = run(m, rows, prompt, steps);
    const std::int64_t cache_bytes = rows * m.num_layers() * 2 * m.num_key_value_heads() * m.head_dim() *
                                     (prompt + steps) * static_cast<std::int64_t>(dtype_size(m.cache_dtype()));
    std::printf(
        "%s rows=%lld prompt=%lld steps=%d %-12s first %.2f ms, step %.3f ms (mean), select_rows %.3f ms; "
        "final cache %.1f MB\n",
        label.c_str(), static_cast<long long>(rows), static_cast<long long>(prompt), steps,
        binding ? "io_binding" : "ort_presents", results[binding].first_ms, results[binding].step_ms,
        results[binding].select_ms, static_cast<double>(cache_bytes) / 1e6);
  }
  EXPECT_EQ(results[0].last_logits, results[1].last_logits);
}

}  // namespace

TEST(KvCacheBench, DISABLED_Gpt2TinyFixture) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  compare_modes("gpt2-tiny", fixtures / "onnx" / "gpt2-tiny", 4, 8, 110);
  compare_modes("gpt2-tiny-legacy merged", fixtures / "onnx" / "gpt2-tiny-legacy", 4, 8, 110);
}

TEST(KvCacheBench, DISABLED_TinyLlamaShapedCache) {
  // TinyLlama-1.1B's cache: 22 layers, 4 key/value heads of 64, vocab 32000 (45 KB per token and row in fp32).
  const fs::path dir = write_cache_graph(22, 4, 64, 32000);
  compare_modes("tinyllama-shaped", dir, 4, 32, 480);
  fs::remove_all(dir);
}

// A float16 export: the cache stays float16 (both modes, select_rows too), step() returns float32 logits, and the
// results follow the float32 graph's within float16 precision.
TEST(KvCache, Float16GraphKeepsAFloat16Cache) {
  const fs::path f32 = write_cache_graph(2, 2, 8, 64, false);
  const fs::path f16 = write_cache_graph(2, 2, 8, 64, true);
  const auto reference = ORTModelForCausalLM::from_pretrained(f32.string());
  for (bool binding : {true, false}) {
    CausalLMOptions o;
    o.io_binding = binding;
    const auto m = ORTModelForCausalLM::from_pretrained(f16.string(), o);
    EXPECT_EQ(m.cache_dtype(), DType::Float16);
    EXPECT_EQ(m.num_key_value_heads(), 2);
    EXPECT_EQ(m.head_dim(), 8);
    auto a = reference.start();
    auto h = m.start();
    const auto ids = Tensor::from_values<std::int64_t>({5, 9, 3, 7, 1, 2}, {2, 3});
    auto mask = Tensor::from_vector(std::vector<std::int64_t>(6, 1), {2, 3});
    for (int step = 0; step < 4; ++step) {
      const Tensor la = a->step(step == 0 ? ids : Tensor::from_values<std::int64_t>({4, 6}, {2, 1}), mask);
      const Tensor lh = h->step(step == 0 ? ids : Tensor::from_values<std::int64_t>({4, 6}, {2, 1}), mask);
      ASSERT_EQ(lh.dtype(), DType::Float32);
      ASSERT_EQ(lh.shape(), la.shape());
      const auto va = la.span<float>(), vh = lh.span<float>();
      for (std::size_t i = 0; i < va.size(); ++i) EXPECT_NEAR(vh[i], va[i], 1e-2 + 2e-3 * std::fabs(va[i])) << i;
      // The cache's content shows in the logits (the mean of the present): it differs from step to step.
      if (step == 1) {
        a->select_rows(std::vector<std::int64_t>{1, 0});
        h->select_rows(std::vector<std::int64_t>{1, 0});
      }
      const std::int64_t total = mask.dim(1) + 1;
      mask = Tensor::from_vector(std::vector<std::int64_t>(2 * total, 1), {2, total});
    }
    const auto out = m.forward(ids);
    EXPECT_EQ(out.logits.dtype(), DType::Float16);
    EXPECT_EQ(out.past_key_values.at(0).key.dtype(), DType::Float16);
  }
  fs::remove_all(f32);
  fs::remove_all(f16);
}
