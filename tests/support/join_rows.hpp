#pragma once
// Continuous batching on one DecoderStep (the server's scheduler in miniature): rows prefilled alone join a running
// state at different steps (append_rows, left-padding the shorter past), leave it (select_rows), and the padding no
// remaining row needs is dropped (trim_past); every row's logits at every step must equal its solo greedy run.
// Shared by tests/causal_lm (optimum's exports, with and without IO binding) and tests/export_generative (the shared
// past/present buffer against the copying path).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ortformers/core/tensor.hpp"
#include "ortformers/models/decoder_step.hpp"

namespace ortformers::testing {

struct JoiningRow {
  std::vector<std::int64_t> prompt;
  int joins_at;   // the batch step at which it is prefilled alone and joins
  int leaves_at;  // the last batch step it decodes in
};

struct JoinRowsResult {
  double max_logit_diff = 0;  // over every row's every step, the join prefill included
  int trims = 0;              // trim_past calls (common left padding dropped)
};

// Runs `rows` through one state of `model` for steps 0..last leaves_at, each row's logits compared (within
// `tolerance`) with its solo greedy run on `solo_model` (the same model, or another path of the same weights).
inline void run_joining_rows(const models::GenerativeModel& model, const models::GenerativeModel& solo_model,
                             const std::vector<JoiningRow>& spec, double tolerance, JoinRowsResult& out) {
  struct Row {
    JoiningRow spec;
    std::vector<std::vector<float>> expected;  // solo logits per step ([vocab] each)
    int done = 0;                              // steps compared
    std::int64_t pad = 0, last = 0;
  };
  const auto ones = [](std::int64_t n) {
    return Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(n), 1), {1, n});
  };
  const auto argmax = [](const float* row, std::int64_t vocab) { return std::max_element(row, row + vocab) - row; };
  const auto diff = [](const float* a, const std::vector<float>& b) {
    double d = 0;
    for (std::size_t i = 0; i < b.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
    return d;
  };
  std::vector<Row> rows;
  int last_step = 0;
  for (const auto& s : spec) {
    Row r{s, {}};
    auto state = solo_model.start();
    const auto n = static_cast<std::int64_t>(s.prompt.size());
    Tensor l = state->step(Tensor::from_vector(s.prompt, {1, n}), ones(n));
    for (int k = 0;; ++k) {
      r.expected.emplace_back(l.data<float>(), l.data<float>() + l.dim(1));
      if (k == s.leaves_at - s.joins_at) break;
      const std::int64_t next = argmax(l.data<float>(), l.dim(1));
      l = state->step(Tensor::from_vector(std::vector<std::int64_t>{next}, {1, 1}), ones(state->past_length() + 1));
    }
    rows.push_back(std::move(r));
    last_step = std::max(last_step, s.leaves_at);
  }
  auto batch = model.start();
  std::vector<std::size_t> live;  // indices into rows, in state order
  for (int step = 0; step <= last_step; ++step) {
    // Decode the running rows.
    if (!live.empty()) {
      const auto n = static_cast<std::int64_t>(live.size());
      const std::int64_t total = batch->past_length() + 1;
      std::vector<std::int64_t> ids, mask;
      for (auto i : live) {
        ids.push_back(rows[i].last);
        for (std::int64_t c = 0; c < total; ++c) mask.push_back(c < rows[i].pad ? 0 : 1);
      }
      const Tensor logits = batch->step(Tensor::from_vector(ids, {n, 1}), Tensor::from_vector(mask, {n, total}));
      for (std::int64_t k = 0; k < n; ++k) {
        Row& r = rows[live[static_cast<std::size_t>(k)]];
        const float* l = logits.data<float>() + k * logits.dim(1);
        ASSERT_LT(static_cast<std::size_t>(r.done), r.expected.size());
        const double d = diff(l, r.expected[static_cast<std::size_t>(r.done)]);
        EXPECT_LE(d, tolerance) << "step " << step << " row " << k;
        out.max_logit_diff = std::max(out.max_logit_diff, d);
        r.last = argmax(l, logits.dim(1));
        ++r.done;
      }
    }
    // Leave: rows whose time is up.
    std::vector<std::int64_t> keep;
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < live.size(); ++k) {
      if (rows[live[k]].spec.leaves_at > step) {
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
        ++out.trims;
        for (auto i : live) rows[i].pad -= common;
      }
    }
    // Join: prefill alone, then append.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Row& r = rows[i];
      if (r.spec.joins_at != step) continue;
      auto fresh = model.start();
      const auto n = static_cast<std::int64_t>(r.spec.prompt.size());
      const Tensor logits = fresh->step(Tensor::from_vector(r.spec.prompt, {1, n}), ones(n));
      const double d = diff(logits.data<float>(), r.expected[0]);
      EXPECT_LE(d, tolerance);
      out.max_logit_diff = std::max(out.max_logit_diff, d);
      r.last = argmax(logits.data<float>(), logits.dim(1));
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

}  // namespace ortformers::testing
