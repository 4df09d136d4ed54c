// Chunked prefill (the server's --max-batch-prefill-tokens): a 45-token prompt fed to one DecoderStep in chunks of
// 1, 7 and 32 tokens (each chunk continuing the cache; position ids from the growing attention mask, or from the
// past length in the legacy graphs) gives the logits of one whole prefill within 1e-4 at its last position and at
// 6 greedy steps after it, with the same greedy tokens: optimum's exports of GPT-2 and Llama, with and without IO
// binding, and the legacy GPT-2 graphs (decoder_model + decoder_with_past_model, no position_ids).
#include <gtest/gtest.h>

#include "ortformers/models/causal_lm.hpp"
#include "support/chunked_prefill.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;

namespace {

class ChunkedPrefill : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};

}  // namespace

TEST_P(ChunkedPrefill, EqualsOnePrefill) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  CausalLMOptions o;
  o.io_binding = std::get<1>(GetParam());
  const auto m = ORTModelForCausalLM::from_pretrained((fixtures / "onnx" / std::get<0>(GetParam())).string(), o);
  const auto prompt = ortformers::testing::chunking_prompt(45, m.vocab_size());
  const auto whole = ortformers::testing::greedy_after_prefill(m, prompt, 45, 6);
  ASSERT_EQ(whole.past_after_prompt, 45);
  for (std::int64_t chunk : {1, 7, 32}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    const auto chunked = ortformers::testing::greedy_after_prefill(m, prompt, chunk, 6);
    EXPECT_EQ(chunked.past_after_prompt, 45);
    EXPECT_LE(ortformers::testing::max_logits_diff(chunked, whole), 1e-4);
    EXPECT_EQ(chunked.tokens, whole.tokens);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ChunkedPrefill,
                         ::testing::Combine(::testing::Values("gpt2-tiny", "llama-tiny", "gpt2-tiny-legacy"),
                                            ::testing::Bool()));
