// DecoderStep::append_rows / trim_past (continuous batching): sequences that join a running state at different
// steps, with left padding, and leave it, get at every step the same next-token logits as their own solo state
// (within 1e-4), for optimum's default exports (GPT-2, Llama with grouped-query attention), with and without IO
// binding. The legacy graphs (no position_ids) join only states of equal past length.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ortformers/models/causal_lm.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

std::int64_t argmax(const float* row, std::int64_t vocab) {
  return std::max_element(row, row + vocab) - row;
}

// Solo run: the prompt, then `steps` greedy tokens; the logits of each step ([vocab] each).
std::vector<std::vector<float>> solo(const ORTModelForCausalLM& m, const std::vector<std::int64_t>& prompt, int steps) {
  auto state = m.start();
  std::vector<std::vector<float>> out;
  const auto n = static_cast<std::int64_t>(prompt.size());
  Tensor logits = state->step(Tensor::from_vector(prompt, {1, n}),
                              Tensor::from_vector(std::vector<std::int64_t>(prompt.size(), 1), {1, n}));
  for (int s = 0;; ++s) {
    out.emplace_back(logits.data<float>(), logits.data<float>() + logits.dim(1));
    if (s == steps) break;
    const std::int64_t next = argmax(logits.data<float>(), logits.dim(1));
    const std::int64_t total = state->past_length() + 1;
    logits =
        state->step(Tensor::from_vector(std::vector<std::int64_t>{next}, {1, 1}),
                    Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(total), 1), {1, total}));
  }
  return out;
}

double max_diff(const float* a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < b.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

struct Row {
  std::vector<std::int64_t> prompt;
  int joins_at;  // the batch step at which it joins
  int leaves_at;
  std::vector<std::vector<float>> expected;
  int done = 0;  // steps compared
  std::int64_t pad = 0;
  std::int64_t last = 0;
};

void run_joins(const ORTModelForCausalLM& m) {
  std::vector<Row> rows = {{{15496, 11, 995, 318, 257, 1332}, 0, 9, {}},
                           {{40, 588}, 2, 12, {}},
                           {{464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 383}, 3, 7, {}},
                           {{50256}, 5, 12, {}}};
  if (m.vocab_size() < 50257) {
    for (auto& r : rows)
      for (auto& t : r.prompt) t %= m.vocab_size();
  }
  for (auto& r : rows) r.expected = solo(m, r.prompt, r.leaves_at - r.joins_at);
  auto batch = m.start();
  std::vector<std::size_t> live;  // indices into rows, in state order
  const std::int64_t vocab = m.vocab_size();
  for (int step = 0; step <= 12; ++step) {
    // Decode the running rows.
    if (!live.empty()) {
      const std::int64_t n = static_cast<std::int64_t>(live.size()), total = batch->past_length() + 1;
      std::vector<std::int64_t> ids, mask;
      for (auto i : live) {
        ids.push_back(rows[i].last);
        for (std::int64_t c = 0; c < total; ++c) mask.push_back(c < rows[i].pad ? 0 : 1);
      }
      const Tensor logits = batch->step(Tensor::from_vector(ids, {n, 1}), Tensor::from_vector(mask, {n, total}));
      for (std::int64_t k = 0; k < n; ++k) {
        Row& r = rows[live[static_cast<std::size_t>(k)]];
        const float* l = logits.data<float>() + k * vocab;
        ASSERT_LT(static_cast<std::size_t>(r.done), r.expected.size());
        EXPECT_LE(max_diff(l, r.expected[static_cast<std::size_t>(r.done)]), 1e-4) << "step " << step << " row " << k;
        r.last = argmax(l, vocab);
        ++r.done;
      }
    }
    // Leave: rows whose time is up.
    std::vector<std::int64_t> keep;
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < live.size(); ++k) {
      if (rows[live[k]].leaves_at > step) {
        keep.push_back(static_cast<std::int64_t>(k));
        still.push_back(live[k]);
      }
    }
    if (still.size() != live.size()) {
      batch->select_rows(keep);
      live = still;
      std::int64_t common = batch->past_length();
      for (auto i : live) common = std::min(common, rows[i].pad);
      if (!live.empty() && common > 0) {
        batch->trim_past(common);
        for (auto i : live) rows[i].pad -= common;
      }
    }
    // Join: prefill alone, then append.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Row& r = rows[i];
      if (r.joins_at != step) continue;
      auto fresh = m.start();
      const auto n = static_cast<std::int64_t>(r.prompt.size());
      const Tensor logits = fresh->step(Tensor::from_vector(r.prompt, {1, n}),
                                        Tensor::from_vector(std::vector<std::int64_t>(r.prompt.size(), 1), {1, n}));
      EXPECT_LE(max_diff(logits.data<float>(), r.expected[0]), 1e-4);
      r.last = argmax(logits.data<float>(), vocab);
      r.done = 1;
      const std::int64_t before = batch->past_length();
      batch->append_rows(*fresh);
      EXPECT_EQ(fresh->rows(), 0);
      const std::int64_t after = batch->past_length();
      for (auto j : live) rows[j].pad += after - before;
      r.pad = after - n;
      live.push_back(i);
      EXPECT_EQ(batch->rows(), static_cast<std::int64_t>(live.size()));
    }
  }
  for (const auto& r : rows) EXPECT_EQ(static_cast<std::size_t>(r.done), r.expected.size());
}

class JoinRows : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};

}  // namespace

TEST_P(JoinRows, EveryRowEqualsItsSoloRun) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CausalLMOptions o;
  o.io_binding = std::get<1>(GetParam());
  const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / std::get<0>(GetParam())).string(), o);
  run_joins(m);
}

INSTANTIATE_TEST_SUITE_P(Models, JoinRows,
                         ::testing::Combine(::testing::Values("gpt2-tiny", "llama-tiny"), ::testing::Bool()));

TEST(JoinRowsLegacy, EqualPastsJoinDifferentOnesAreRefused) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / "gpt2-tiny-legacy").string());
  auto a = m.start(), b = m.start(), c = m.start();
  const auto ones = [](std::int64_t n) {
    return Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(n), 1), {1, n});
  };
  const Tensor la = a->step(Tensor::from_vector(std::vector<std::int64_t>{464, 2068, 7586}, {1, 3}), ones(3));
  const Tensor lb = b->step(Tensor::from_vector(std::vector<std::int64_t>{40, 588, 13}, {1, 3}), ones(3));
  c->step(Tensor::from_vector(std::vector<std::int64_t>{40, 588}, {1, 2}), ones(2));
  EXPECT_THROW(a->append_rows(*c), UnsupportedError);
  EXPECT_EQ(c->rows(), 1);
  a->append_rows(*b);
  ASSERT_EQ(a->rows(), 2);
  // Both rows continue exactly as alone.
  auto sa = m.start(), sb = m.start();
  sa->step(Tensor::from_vector(std::vector<std::int64_t>{464, 2068, 7586}, {1, 3}), ones(3));
  sb->step(Tensor::from_vector(std::vector<std::int64_t>{40, 588, 13}, {1, 3}), ones(3));
  const std::int64_t ta = argmax(la.data<float>(), la.dim(1)), tb = argmax(lb.data<float>(), lb.dim(1));
  const Tensor both = a->step(Tensor::from_vector(std::vector<std::int64_t>{ta, tb}, {2, 1}),
                              Tensor::from_vector(std::vector<std::int64_t>(8, 1), {2, 4}));
  const Tensor ra = sa->step(Tensor::from_vector(std::vector<std::int64_t>{ta}, {1, 1}), ones(4));
  const Tensor rb = sb->step(Tensor::from_vector(std::vector<std::int64_t>{tb}, {1, 1}), ones(4));
  const std::vector<float> va(ra.data<float>(), ra.data<float>() + ra.dim(1)),
      vb(rb.data<float>(), rb.data<float>() + rb.dim(1));
  EXPECT_LE(max_diff(both.data<float>(), va), 1e-4);
  EXPECT_LE(max_diff(both.data<float>() + both.dim(1), vb), 1e-4);
  EXPECT_THROW(a->trim_past(5), InvalidArgument);
  EXPECT_THROW(a->append_rows(*a), InvalidArgument);
}
