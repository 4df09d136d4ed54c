// IncrementalDecoder (the scheduler's per-row text): over the fixtures' tokenizations (byte-level BPE: gpt2, bart;
// SentencePiece with byte fallback: llama; T5's slow SentencePiece) and seeded random id sequences with special ids
// mixed in, the concatenation of step() and flush() is tokenizer.decode(ids, skip_special_tokens=true, no clean-up),
// every step's text extends a prefix of that decode, and the window a step decodes stays short (the cost of a step
// does not grow with the sequence).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ortformers/core/json.hpp"
#include "server/engine/incremental_decoder.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::server;

namespace {

void check_sequence(const tokenizers::PreTrainedTokenizer& tok, const std::vector<std::int64_t>& special,
                    const std::vector<std::int64_t>& ids, std::size_t max_window, const std::string& what) {
  const std::string want = tok.decode(ids, true, false);
  IncrementalDecoder d(tok, true, special);
  std::string got;
  std::size_t widest = 0;
  for (auto id : ids) {
    got += d.step(id);
    widest = std::max(widest, d.window());
    ASSERT_EQ(want.compare(0, got.size(), got), 0) << what << ": streamed text is not a prefix: " << got;
  }
  got += d.flush();
  EXPECT_EQ(got, want) << what;
  if (max_window > 0) {
    EXPECT_LE(widest, max_window) << what;
  }
  EXPECT_TRUE(d.ids().empty());
}

}  // namespace

TEST(IncrementalDecoder, ConcatenationIsTheWholeDecode) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"gpt2-tiny", "llama-tiny", "t5-tiny", "bart-tiny"}) {
    const auto tok = tokenizers::AutoTokenizer::from_pretrained(fixtures / "onnx" / name);
    auto special = tok.all_special_ids();
    std::sort(special.begin(), special.end());
    const Json ref = read_json_file(fixtures / "reference" / (name + ".json"));
    std::vector<std::int64_t> all;
    for (const auto& t : ref.at("tokenization")) {
      const auto ids = t.at("input_ids").get<std::vector<std::int64_t>>();
      check_sequence(tok, special, ids, 8, name + " text " + t.at("text").get<std::string>());
      all.insert(all.end(), ids.begin(), ids.end());
    }
    check_sequence(tok, special, all, 8, name + " all texts");  // long: the window still stays short
    std::mt19937_64 rng(1234);
    const auto vocab = ref.at("config").at("vocab_size").get<std::int64_t>();
    for (int k = 0; k < 20; ++k) {
      std::vector<std::int64_t> ids;
      for (int i = 0; i < 40; ++i) {
        if (rng() % 8 == 0 && !special.empty())
          ids.push_back(special[rng() % special.size()]);
        else
          ids.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(vocab)));
      }
      check_sequence(tok, special, ids, 0, name + " random " + std::to_string(k));
    }
  }
}
