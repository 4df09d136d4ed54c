// The decoding strategies on a deterministic fake model: greedy against a naive loop, exhaustive beam search, batched
// == one at a time, beam scores recomputed, sampling statistics and reproducibility, streaming, stop strings, the
// encoder-decoder path, bad input.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "generation/test_util.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::testing {
namespace {

using namespace ortformers::generation;

GenerationConfig config_from(const std::string& json) {
  GenerationConfig c;
  c.update(Json::parse(json));
  return c;
}

std::vector<double> log_softmax_d(const std::vector<float>& logits) {
  std::vector<float> out(logits.size());
  log_softmax(logits.data(), out.data(), static_cast<std::int64_t>(logits.size()));
  return {out.begin(), out.end()};
}

std::vector<float> fake_logits(const FakeModelSpec& s, std::int64_t last, std::int64_t position) {
  std::vector<float> l(static_cast<std::size_t>(s.vocab));
  for (std::int64_t v = 0; v < s.vocab; ++v) l[static_cast<std::size_t>(v)] = fake_logit(s, last, position, v);
  return l;
}

TEST(Generate, GreedyMatchesNaiveArgmaxLoop) {
  FakeModel model;
  const std::vector<std::int64_t> prompt = {3, 5, 7};
  auto out = generate(model, ids_tensor({prompt}), Tensor(), config_from(R"({"max_new_tokens": 6, "output_scores": true})"));
  std::vector<std::int64_t> expected = prompt;
  for (int i = 0; i < 6; ++i) {
    auto l = fake_logits(model.spec(), expected.back(), static_cast<std::int64_t>(expected.size()) - 1);
    expected.push_back(std::max_element(l.begin(), l.end()) - l.begin());
  }
  EXPECT_EQ(rows_of(out.sequences)[0], expected);
  ASSERT_EQ(out.scores.size(), 6u);
  EXPECT_EQ(out.scores[0].shape(), (Shape{1, 32}));
  EXPECT_EQ(model.calls, 6);  // one model step per new token: the prompt once, then the cache
}

TEST(Generate, BeamSearchWithAllFirstTokensIsExhaustive) {
  FakeModel model;
  const std::vector<std::int64_t> prompt = {4, 9};
  auto out = generate(model, ids_tensor({prompt}), Tensor(),
                      config_from(R"({"max_new_tokens": 2, "num_beams": 32, "output_scores": true})"));
  double best = -1e30;
  std::vector<std::int64_t> best_seq;
  auto first = log_softmax_d(fake_logits(model.spec(), 9, 1));
  for (std::int64_t a = 0; a < 32; ++a) {
    auto second = log_softmax_d(fake_logits(model.spec(), a, 2));
    for (std::int64_t b = 0; b < 32; ++b) {
      const double s = first[static_cast<std::size_t>(a)] + second[static_cast<std::size_t>(b)];
      if (s > best) {
        best = s;
        best_seq = {4, 9, a, b};
      }
    }
  }
  EXPECT_EQ(rows_of(out.sequences)[0], best_seq);
  // length_penalty 1: the sum over the whole length, prompt included (4 tokens).
  EXPECT_NEAR(out.sequences_scores.to_vector<float>()[0], best / 4.0, 1e-5);
}

TEST(Generate, BeamSequenceScoresAreLengthNormalisedLogProbs) {
  FakeModel model;
  for (const char* kw : {R"({"max_new_tokens": 5, "num_beams": 3, "num_return_sequences": 3, "length_penalty": 0.5})",
                         R"({"max_new_tokens": 4, "num_beams": 4, "num_return_sequences": 2, "length_penalty": 2.0})"}) {
    auto c = config_from(kw);
    auto out = generate(model, ids_tensor({{1, 2, 3}}), Tensor(), c);
    const auto seqs = rows_of(out.sequences);
    const auto scores = out.sequences_scores.to_vector<float>();
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      double sum = 0;
      for (std::size_t t = 3; t < seqs[i].size(); ++t)
        sum += log_softmax_d(fake_logits(model.spec(), seqs[i][t - 1], static_cast<std::int64_t>(t) - 1))[static_cast<std::size_t>(seqs[i][t])];
      EXPECT_NEAR(scores[i], sum / std::pow(static_cast<double>(seqs[i].size()), c.length_penalty), 1e-5) << kw;
      if (i > 0) {
        EXPECT_LE(scores[i], scores[i - 1]) << kw;  // best first
      }
    }
  }
}

// Rows of a left-padded batch give what each prompt gives alone.
void expect_batched_equals_single(const std::string& kwargs, std::int64_t per_input) {
  FakeModel model;
  const std::vector<std::vector<std::int64_t>> prompts = {{5, 6, 7, 8}, {9, 10}, {11, 12, 13}};
  const std::int64_t pad = 0;
  std::vector<std::vector<std::int64_t>> ids, mask;
  for (const auto& p : prompts) {
    std::vector<std::int64_t> row(4 - p.size(), pad), m(4 - p.size(), 0);
    row.insert(row.end(), p.begin(), p.end());
    m.insert(m.end(), p.size(), 1);
    ids.push_back(row);
    mask.push_back(m);
  }
  auto c = config_from(kwargs);
  c.pad_token_id = pad;
  c.eos_token_id = {1};
  auto batched = generate(model, ids_tensor(ids), ids_tensor(mask), c);
  const auto rows = rows_of(batched.sequences);
  ASSERT_EQ(rows.size(), prompts.size() * static_cast<std::size_t>(per_input));
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    auto single = generate(model, ids_tensor({prompts[i]}), Tensor(), c);
    const auto srows = rows_of(single.sequences);
    for (std::int64_t j = 0; j < per_input; ++j) {
      const auto& b = rows[i * static_cast<std::size_t>(per_input) + static_cast<std::size_t>(j)];
      std::vector<std::int64_t> stripped(b.begin() + static_cast<std::ptrdiff_t>(4 - prompts[i].size()), b.end());
      const auto& s = srows[static_cast<std::size_t>(j)];
      ASSERT_GE(stripped.size(), s.size()) << kwargs;
      EXPECT_EQ(std::vector<std::int64_t>(stripped.begin(), stripped.begin() + static_cast<std::ptrdiff_t>(s.size())), s) << kwargs << " row " << i;
      for (std::size_t t = s.size(); t < stripped.size(); ++t) EXPECT_EQ(stripped[t], pad) << kwargs;
      if (batched.sequences_scores.defined()) {
        EXPECT_NEAR(batched.sequences_scores.to_vector<float>()[i * static_cast<std::size_t>(per_input) + static_cast<std::size_t>(j)],
                    single.sequences_scores.to_vector<float>()[static_cast<std::size_t>(j)], 1e-5);
      }
    }
  }
}

TEST(Generate, BatchedEqualsOneAtATime) {
  expect_batched_equals_single(R"({"max_new_tokens": 8})", 1);
  // Processors that see the padding (repetition penalty, n-grams) and beam length penalties over the padded length
  // differ with padding in transformers 4.31 too, so the beam cases use length_penalty 0 (scores = summed log-probs).
  expect_batched_equals_single(R"({"max_new_tokens": 8, "suppress_tokens": [3, 4], "min_new_tokens": 3})", 1);
  expect_batched_equals_single(R"({"max_new_tokens": 6, "num_beams": 3, "num_return_sequences": 2, "length_penalty": 0.0})", 2);
  expect_batched_equals_single(R"({"max_new_tokens": 6, "num_beams": 4, "early_stopping": true, "length_penalty": 0.0})", 1);
  expect_batched_equals_single(R"({"max_new_tokens": 6, "num_beams": 3, "early_stopping": "never", "length_penalty": 0.0})", 1);
  expect_batched_equals_single(
      R"({"max_new_tokens": 5, "num_beams": 4, "num_beam_groups": 2, "diversity_penalty": 0.8, "num_return_sequences": 2, "length_penalty": 0.0})", 2);
}

TEST(Generate, SamplingTopKNeverLeavesTheK) {
  FakeModel model;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    auto c = config_from(R"({"max_new_tokens": 20, "do_sample": true, "top_k": 3, "output_scores": true})");
    c.seed = seed;
    auto out = generate(model, ids_tensor({{2, 3}, {4, 5}}), Tensor(), c);
    const auto seqs = rows_of(out.sequences);
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t t = 2; t < seqs[r].size(); ++t) {
        auto l = fake_logits(model.spec(), seqs[r][t - 1], static_cast<std::int64_t>(t) - 1);
        std::vector<float> sorted = l;
        std::sort(sorted.begin(), sorted.end(), std::greater<float>());
        EXPECT_GE(l[static_cast<std::size_t>(seqs[r][t])], sorted[2]);
        const auto scores = out.scores[t - 2].to_vector<float>();
        EXPECT_EQ(std::count_if(scores.begin() + static_cast<std::ptrdiff_t>(r * 32), scores.begin() + static_cast<std::ptrdiff_t>((r + 1) * 32),
                                [](float s) { return std::isfinite(s); }), 3);
      }
  }
}

TEST(Generate, SamplingFrequenciesFollowTheDistribution) {
  FakeModelSpec spec;
  spec.vocab = 8;
  spec.history_independent = true;
  spec.fixed_logits = {0.0f, 1.0f, -1.0f, 0.5f, 2.0f, -0.5f, 0.2f, 1.5f};
  FakeModel model(spec);
  auto c = config_from(R"({"max_new_tokens": 1, "do_sample": true, "top_k": 0, "num_return_sequences": 20000, "seed": 7})");
  auto out = generate(model, ids_tensor({{1}}), Tensor(), c);
  std::vector<double> counts(8, 0);
  for (const auto& row : rows_of(out.sequences)) counts[static_cast<std::size_t>(row[1])] += 1;
  std::vector<float> p(8);
  softmax(spec.fixed_logits.data(), p.data(), 8);
  double chi2 = 0;
  for (std::size_t v = 0; v < 8; ++v) {
    const double e = 20000.0 * p[v];
    chi2 += (counts[v] - e) * (counts[v] - e) / e;
  }
  EXPECT_LT(chi2, 24.32);  // chi-square, 7 degrees of freedom, p = 0.001
}

TEST(Generate, SameSeedSameTokens) {
  FakeModel model;
  auto c = config_from(R"({"max_new_tokens": 12, "do_sample": true, "temperature": 1.5, "top_p": 0.95, "seed": 123})");
  auto a = rows_of(generate(model, ids_tensor({{2, 3}}), Tensor(), c).sequences);
  auto b = rows_of(generate(model, ids_tensor({{2, 3}}), Tensor(), c).sequences);
  EXPECT_EQ(a, b);
  bool any_different = false;
  for (std::uint64_t seed = 124; seed < 130; ++seed) {
    c.seed = seed;
    any_different = any_different || rows_of(generate(model, ids_tensor({{2, 3}}), Tensor(), c).sequences) != a;
  }
  EXPECT_TRUE(any_different);
  // Beam sampling too.
  auto bs = config_from(R"({"max_new_tokens": 6, "do_sample": true, "num_beams": 3, "num_return_sequences": 2, "seed": 5})");
  auto x = generate(model, ids_tensor({{2, 3}}), Tensor(), bs);
  auto y = generate(model, ids_tensor({{2, 3}}), Tensor(), bs);
  EXPECT_EQ(rows_of(x.sequences), rows_of(y.sequences));
  EXPECT_EQ(x.sequences.dim(0), 2);
}

TEST(Generate, EndOfSequencePadsFinishedRows) {
  FakeModel model;
  // Greedy from token 3 at position 0: make its first choice an end-of-sequence id.
  auto l = fake_logits(model.spec(), 3, 0);
  const std::int64_t first = std::max_element(l.begin(), l.end()) - l.begin();
  auto c = config_from(R"({"max_new_tokens": 5, "pad_token_id": 31})");
  c.eos_token_id = {first};
  auto out = generate(model, ids_tensor({{3}, {4}}), Tensor(), c);
  const auto rows = rows_of(out.sequences);
  EXPECT_EQ(rows[0][1], first);
  for (std::size_t t = 2; t < rows[0].size(); ++t) EXPECT_EQ(rows[0][t], 31);
}

class Recorder : public BaseStreamer {
 public:
  void put(std::span<const std::int64_t> value) override { puts.emplace_back(value.begin(), value.end()); }
  void end() override { ++ends; }
  std::vector<std::vector<std::int64_t>> puts;
  int ends = 0;
};

TEST(Generate, StreamerGetsPromptThenEachToken) {
  FakeModel model;
  Recorder rec;
  GenerateOptions options;
  options.streamer = &rec;
  auto out = generate(model, ids_tensor({{3, 4}}), Tensor(), config_from(R"({"max_new_tokens": 4})"), options);
  ASSERT_EQ(rec.puts.size(), 5u);
  EXPECT_EQ(rec.puts[0], (std::vector<std::int64_t>{3, 4}));
  const auto seq = rows_of(out.sequences)[0];
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(rec.puts[i], std::vector<std::int64_t>{seq[i + 1]});
  EXPECT_EQ(rec.ends, 1);
  options.streamer = &rec;
  EXPECT_THROW(generate(model, ids_tensor({{3, 4}}), Tensor(), config_from(R"({"max_new_tokens": 4, "num_beams": 2})"), options),
               InvalidArgument);
}

TEST(TextStreamer, PrintableRules) {
  std::size_t print_len = 0;
  bool flush = false;
  EXPECT_EQ(text_streamer_printable("Hello wor", print_len, flush), "Hello ");
  EXPECT_EQ(print_len, 6u);
  EXPECT_EQ(text_streamer_printable("Hello world", print_len, flush), "");
  EXPECT_EQ(text_streamer_printable("Hello world and", print_len, flush), "world ");
  EXPECT_EQ(text_streamer_printable("Hello world and \xEF\xBF\xBD", print_len, flush), "");  // U+FFFD held back
  EXPECT_EQ(text_streamer_printable("Hello world and \xE4\xBD\xA0", print_len, flush), "and \xE4\xBD\xA0");  // CJK
  EXPECT_EQ(text_streamer_printable("Hello world and \xE4\xBD\xA0 ok\n", print_len, flush), " ok\n");
  EXPECT_TRUE(flush);
  EXPECT_EQ(print_len, 0u);
}

TEST(TextStreamer, ConcatenationEqualsDecodedText) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(fixtures / "models" / "gpt2-tiny");
  FakeModelSpec spec;
  spec.vocab = 50257;
  FakeModel model(spec);
  const auto prompt = tokenizer.encode("Hello, my dog is").ids;
  std::vector<std::int64_t> prompt_ids(prompt.begin(), prompt.end());
  for (bool skip_prompt : {true, false}) {
    std::string streamed;
    int ends = 0;
    CallbackTextStreamer streamer(
        tokenizer,
        [&](const std::string& text, bool stream_end) {
          streamed += text;
          ends += stream_end ? 1 : 0;
        },
        skip_prompt);
    GenerateOptions options;
    options.streamer = &streamer;
    auto c = config_from(R"({"max_new_tokens": 24, "do_sample": true, "seed": 3})");
    auto out = generate(model, ids_tensor({prompt_ids}), Tensor(), c, options);
    auto seq = rows_of(out.sequences)[0];
    std::vector<std::int64_t> shown(seq.begin() + (skip_prompt ? static_cast<std::ptrdiff_t>(prompt_ids.size()) : 0), seq.end());
    EXPECT_EQ(streamed, tokenizer.decode(shown));
    EXPECT_EQ(ends, 1);
  }
  // TextStreamer prints to a stream, ending with a newline.
  std::ostringstream os;
  TextStreamer printer(tokenizer, true, false, &os);
  GenerateOptions options;
  options.streamer = &printer;
  auto out = generate(model, ids_tensor({prompt_ids}), Tensor(), config_from(R"({"max_new_tokens": 6})"), options);
  auto seq = rows_of(out.sequences)[0];
  EXPECT_EQ(os.str(), tokenizer.decode(std::vector<std::int64_t>(seq.begin() + static_cast<std::ptrdiff_t>(prompt_ids.size()), seq.end())) + "\n");
}

TEST(Generate, StopStringsFinishRows) {
  FakeModel model;
  GenerateOptions options;
  // Text: one letter per token id.
  options.decode = [](std::span<const std::int64_t> ids) {
    std::string s;
    for (auto id : ids) s += static_cast<char>('a' + id % 26);
    return s;
  };
  auto free_run = rows_of(generate(model, ids_tensor({{3}}), Tensor(), config_from(R"({"max_new_tokens": 8})")).sequences)[0];
  // Stop on the text of new tokens 2..3.
  options.stop_strings = {options.decode(std::span<const std::int64_t>(free_run).subspan(2, 2))};
  auto out = generate(model, ids_tensor({{3}}), Tensor(), config_from(R"({"max_new_tokens": 8, "pad_token_id": 0})"), options);
  const auto row = rows_of(out.sequences)[0];
  EXPECT_EQ(row.size(), 4u);
  EXPECT_EQ(out.stop_strings_found[0], options.stop_strings[0]);
}

// An encoder-decoder fake: the encoder input's first token shifts the logits; the state starts with one row per
// encoder row.
class FakeSeq2Seq : public models::GenerativeModel {
 public:
  class Step : public FakeStep {
   public:
    Step(std::int64_t rows) : FakeStep(FakeModelSpec{}, nullptr), initial_rows_(rows) {}
    std::int64_t rows() const override { return selected_ ? FakeStep::rows() : initial_rows_; }
    void select_rows(std::span<const std::int64_t> rows) override {
      if (!selected_ && FakeStep::rows() == 0) {
        initial_rows_ = static_cast<std::int64_t>(rows.size());
        selected_ = true;
        return;
      }
      FakeStep::select_rows(rows);
    }

   private:
    std::int64_t initial_rows_;
    bool selected_ = false;
  };
  std::unique_ptr<models::DecoderStep> start(const TensorMap& inputs) const override {
    started_with = inputs.at("input_ids").dim(0);
    return std::make_unique<Step>(inputs.at("input_ids").dim(0));
  }
  bool is_encoder_decoder() const override { return true; }
  std::int64_t vocab_size() const override { return 32; }
  mutable std::int64_t started_with = 0;
};

TEST(Generate, EncoderDecoderStartsFromDecoderStartToken) {
  FakeSeq2Seq model;
  TensorMap inputs;
  inputs["input_ids"] = ids_tensor({{5, 6, 7}, {8, 9, 10}});
  auto c = config_from(R"({"max_new_tokens": 4, "decoder_start_token_id": 2, "num_beams": 2})");
  auto out = generate(model, inputs, c);
  EXPECT_EQ(model.started_with, 2);
  for (const auto& row : rows_of(out.sequences)) EXPECT_EQ(row[0], 2);
  EXPECT_EQ(out.sequences.dim(0), 2);
  EXPECT_EQ(out.sequences.dim(1), 5);
  auto no_start = config_from(R"({"max_new_tokens": 4})");
  try {
    generate(model, inputs, no_start);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "`decoder_start_token_id` or `bos_token_id` has to be defined for encoder-decoder generation.");
  }
}

std::string generate_error(const FakeModel& model, const Tensor& ids, const std::string& kwargs) {
  try {
    generate(model, ids, Tensor(), config_from(kwargs));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Generate, BadInputIsTransformersErrorText) {
  FakeModelSpec spec;
  spec.max_positions = 8;
  FakeModel model(spec);
  const Tensor empty = Tensor::from_vector<std::int64_t>({}, {1, 0});
  EXPECT_EQ(generate_error(model, empty, R"({"max_new_tokens": 3})"),
            "`bos_token_id` has to be defined when no `input_ids` are provided.");
  // With a bos id an empty prompt starts from it, as generate() without input_ids.
  auto out = generate(model, empty, Tensor(), config_from(R"({"max_new_tokens": 3, "bos_token_id": 4})"));
  EXPECT_EQ(rows_of(out.sequences)[0][0], 4);
  EXPECT_EQ(out.sequences.dim(1), 4);
  const Tensor ids = ids_tensor({{1, 2, 3}});
  EXPECT_EQ(generate_error(model, ids, R"({"max_new_tokens": 0})"), "`max_new_tokens` must be greater than 0, but is 0.");
  EXPECT_EQ(generate_error(model, ids, R"({"max_new_tokens": 2, "do_sample": true, "temperature": -0.5})"),
            "`temperature` has to be a strictly positive float, but is -0.5");
  EXPECT_EQ(generate_error(model, ids, R"({"max_new_tokens": 2, "num_beams": 2, "num_return_sequences": 3})"),
            "`num_return_sequences` has to be smaller or equal to `num_beams`.");
  EXPECT_EQ(generate_error(model, ids_tensor({{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}), R"({"max_new_tokens": 2})"),
            "Input length of input_ids is 10, but the model has only 8 positions (max_position_embeddings / "
            "n_positions): shorten the prompt");
  EXPECT_NE(generate_error(model, ids, R"({"max_new_tokens": 6})").find("`max_length` is 9"), std::string::npos);
  EXPECT_NE(generate_error(model, ids_tensor({{1, 40}}), R"({"max_new_tokens": 2})").find("outside the model's vocabulary"),
            std::string::npos);
  EXPECT_EQ(generate_error(model, ids, R"({"max_length": 5, "min_length": 7})"),
            "Unfeasible length constraints: the minimum length (7) is larger than the maximum length (5)");
  // Warnings come back as text.
  std::vector<std::string> warnings;
  GenerateOptions options;
  options.warnings = &warnings;
  generate(model, ids, Tensor(), config_from(R"({"max_length": 6, "max_new_tokens": 2, "eos_token_id": 5})"), options);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "Setting `pad_token_id` to `eos_token_id`:5 for open-end generation.");
  EXPECT_NE(warnings[1].find("Both `max_new_tokens` (=2) and `max_length`(=6) seem to have been set."), std::string::npos);
}

}  // namespace
}  // namespace ortformers::testing
