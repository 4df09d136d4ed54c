// The admission arithmetic of issue 23 item 9 (src/server/engine/admission.hpp) with made-up batch timings: no
// clock, no threads, so every figure below is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "server/engine/admission.hpp"

namespace ortformers::testing {
namespace {

using namespace std::chrono_literals;
using server::Admission;

Admission::State state(std::size_t in_flight, std::size_t running = 0, double oldest_wait = 0) {
  Admission::State s;
  s.in_flight = in_flight;
  s.running = running;
  s.oldest_wait_seconds = oldest_wait;
  return s;
}

TEST(AdmissionLogic, BeforeAnyBatchItAdmitsByCountOnly) {
  Admission a(512, 1000ms, 16384);
  EXPECT_EQ(a.seconds_per_request(), 0.0);
  EXPECT_EQ(a.estimated_wait_seconds(state(511)), 0.0);
  EXPECT_TRUE(a.admits(state(511)));
  EXPECT_FALSE(a.admits(state(512)));
  EXPECT_EQ(a.batch_token_limit(), 16384u);
}

TEST(AdmissionLogic, WaitIsTheWorkNotInTheRunningBatchOverTheMeasuredThroughput) {
  Admission a(512, 1000ms, 16384);
  a.record_batch(0.5, 1000, 50);  // 50 requests in 0.5 s: 10 ms a request, 0.5 ms a padded token
  EXPECT_DOUBLE_EQ(a.seconds_per_request(), 0.01);
  EXPECT_DOUBLE_EQ(a.seconds_per_token(), 0.0005);
  EXPECT_DOUBLE_EQ(a.estimated_wait_seconds(state(100)), 1.0);
  EXPECT_DOUBLE_EQ(a.estimated_wait_seconds(state(100, 40)), 0.6);
  EXPECT_EQ(a.estimated_wait_seconds(state(10, 40)), 0.0);  // more running than counted in flight: no wait
  // 100 waiting = exactly the 1 s budget: admitted; one more is not.
  EXPECT_TRUE(a.admits(state(100)));
  EXPECT_FALSE(a.admits(state(101)));
  // The running batch is not ahead of a new request's queue wait.
  EXPECT_TRUE(a.admits(state(140, 40)));
  EXPECT_FALSE(a.admits(state(141, 40)));
  // The count bound holds whatever the estimate says.
  Admission small(120, 1000ms, 16384);
  small.record_batch(0.5, 1000, 50);
  EXPECT_FALSE(small.admits(state(120, 100)));
}

TEST(AdmissionLogic, TheOldestMeasuredWaitRefusesWhenTheQueueStopsDraining) {
  Admission a(512, 1000ms, 16384);
  a.record_batch(0.5, 1000, 50);
  EXPECT_TRUE(a.admits(state(20, 0, 1.0)));
  EXPECT_FALSE(a.admits(state(20, 0, 1.001)));  // the estimate says 0.2 s, the queue says otherwise
  EXPECT_TRUE(a.admits(state(7, 0, 60.0)));     // below the floor: admitted anyway
}

TEST(AdmissionLogic, FewerThanTheFloorAreAlwaysAdmitted) {
  Admission a(512, 10ms, 16384);
  a.record_batch(2.0, 100, 1);  // 2 s a request: any wait is over a 10 ms budget
  for (std::size_t n = 0; n < Admission::kAlwaysAdmitted; ++n) EXPECT_TRUE(a.admits(state(n))) << n;
  EXPECT_FALSE(a.admits(state(Admission::kAlwaysAdmitted)));
}

TEST(AdmissionLogic, ZeroBudgetIsAdmissionByCountAndBatchesByMaxBatchTokens) {
  Admission a(64, 0ms, 4096);
  a.record_batch(10.0, 100, 1);
  EXPECT_TRUE(a.admits(state(63, 0, 100.0)));
  EXPECT_FALSE(a.admits(state(64)));
  EXPECT_EQ(a.batch_token_limit(), 4096u);
}

TEST(AdmissionLogic, ABatchHoldsWhatTheModelRunsInAShareOfTheBudget) {
  Admission a(512, 1000ms, 16384);
  a.record_batch(0.5, 1000, 50);  // 0.5 ms a padded token
  EXPECT_EQ(a.batch_token_limit(), static_cast<std::size_t>(Admission::kBatchShare * 1.0 / 0.0005));
  EXPECT_GT(a.batch_token_limit(), Admission::kMinBatchTokens);
  Admission fast(512, 1000ms, 16384);
  fast.record_batch(0.001, 1000, 50);  // 1 us a token: the share would be 250,000 tokens, max_batch_tokens wins
  EXPECT_EQ(fast.batch_token_limit(), 16384u);
  Admission slow(512, 1000ms, 16384);
  slow.record_batch(30.0, 10, 1);  // 3 s a token: the floor, not a batch too small to be efficient
  EXPECT_EQ(slow.batch_token_limit(), Admission::kMinBatchTokens);
  Admission tiny(512, 1000ms, 100);  // ... unless max_batch_tokens is lower
  tiny.record_batch(30.0, 10, 1);
  EXPECT_EQ(tiny.batch_token_limit(), 100u);
}

TEST(AdmissionLogic, ThroughputWeighsBatchesByWhatTheyServedNotOneEach) {
  Admission a(512, 1000ms, 16384);
  a.record_batch(1.0, 4000, 200);  // 5 ms a request
  a.record_batch(0.05, 20, 1);     // a lone request at 50 ms
  // Ratio of the decayed sums: (1 x e^(-0.05/2) + 0.05) / (200 x e^(-0.05/2) + 1), not the mean of 5 and 50 ms.
  const double keep = std::exp(-0.05 / Admission::kWindowSeconds);
  EXPECT_NEAR(a.seconds_per_request(), (keep + 0.05) / (200 * keep + 1), 1e-12);
  EXPECT_LT(a.seconds_per_request(), 0.0053);
}

TEST(AdmissionLogic, ThroughputFollowsAChangeOfSpeedWithinAFewWindows) {
  Admission a(512, 1000ms, 16384);
  for (int i = 0; i < 20; ++i) a.record_batch(0.5, 1000, 100);  // 5 ms a request
  EXPECT_NEAR(a.seconds_per_request(), 0.005, 1e-12);
  // The machine gets 4x slower. Weighted by requests, the fast past counts 4x per second of model time, so the
  // estimate lags (the measured oldest-wait check covers that time): after 1 s of model time it is 40 % up, after
  // 10 s (5 windows) within 3 %.
  a.record_batch(0.5, 1000, 25);
  a.record_batch(0.5, 1000, 25);
  EXPECT_GT(a.seconds_per_request(), 0.007);
  for (int i = 0; i < 18; ++i) a.record_batch(0.5, 1000, 25);
  EXPECT_NEAR(a.seconds_per_request(), 0.02, 0.02 * 0.03);
  EXPECT_LT(a.seconds_per_request(), 0.02);
  // Faster again: the estimate falls, never below the new speed.
  for (int i = 0; i < 20; ++i) a.record_batch(0.5, 1000, 100);
  EXPECT_NEAR(a.seconds_per_request(), 0.005, 0.005 * 0.03);
  EXPECT_GT(a.seconds_per_request(), 0.005);
}

TEST(AdmissionLogic, NonsenseTimingsAreIgnored) {
  Admission a(512, 1000ms, 16384);
  a.record_batch(0.5, 1000, 50);
  a.record_batch(std::numeric_limits<double>::quiet_NaN(), 1000, 50);
  a.record_batch(-1.0, 1000, 50);
  a.record_batch(std::numeric_limits<double>::infinity(), 1000, 50);
  EXPECT_DOUBLE_EQ(a.seconds_per_request(), 0.01);
  EXPECT_DOUBLE_EQ(a.seconds_per_token(), 0.0005);
}

}  // namespace
}  // namespace ortformers::testing
