// DecoderStep::append_rows / trim_past (continuous batching): sequences that join a running state at different
// steps, with left padding, and leave it, get at every step the same next-token logits as their own solo state
// (within 1e-4), for optimum's default exports (GPT-2, Llama with grouped-query attention), with and without IO
// binding. The legacy graphs (no position_ids) join only states of equal past length.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ortformers/models/causal_lm.hpp"
#include "support/fixtures.hpp"
#include "support/join_rows.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

std::int64_t argmax(const float* row, std::int64_t vocab) {
  return std::max_element(row, row + vocab) - row;
}

double max_diff(const float* a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < b.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

void run_joins(const ORTModelForCausalLM& m) {
  std::vector<ortformers::testing::JoiningRow> rows = {
      {{15496, 11, 995, 318, 257, 1332}, 0, 9},
      {{40, 588}, 2, 12},
      {{464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 383}, 3, 7},
      {{50256}, 5, 12}};
  if (m.vocab_size() < 50257) {
    for (auto& r : rows)
      for (auto& t : r.prompt) t %= m.vocab_size();
  }
  ortformers::testing::JoinRowsResult result;
  ortformers::testing::run_joining_rows(m, m, rows, 1e-4, result);
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
