// ORTModelForSeq2SeqLM against transformers 4.31 (reference/t5-tiny.json, reference/bart-tiny.json) on optimum
// 1.17's exports, for the merged decoder, the split decoders and use_cache=false: encoder outputs, decoder logits
// without and with past (single text and a right-padded batch), the whole decoder sequence at once, present
// shapes; the DecoderStep; every `generate` case (sequences identical, processed scores and sequences_scores within
// 1e-4); a batch equals its rows generated one at a time; bad input.
#include <gtest/gtest.h>

#include <map>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"

using namespace ortformers;
using namespace ortformers::models;
using namespace ortformers::testing;
namespace fs = std::filesystem;

namespace {

constexpr double kTol = 1e-4;

const Json& reference(const fs::path& fixtures, const std::string& name) {
  return ortformers::testing::cached_reference(fixtures, name);
}

using Layout = ortformers::testing::DecoderLayoutCase;
const auto& kLayouts = ortformers::testing::kDecoderLayouts;

ORTModelForSeq2SeqLM load(const fs::path& fixtures, const std::string& name, const Layout& l) {
  Seq2SeqLMOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  return ORTModelForSeq2SeqLM::from_pretrained((fixtures / "onnx" / name).string(), o);
}

class Seq2SeqForward : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Seq2SeqForward, MatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [name, layout_index] = GetParam();
  const Layout& layout = kLayouts[layout_index];
  const Json& ref = reference(fixtures, name);
  const auto model = load(fixtures, name, layout);
  EXPECT_EQ(model.layout(), layout.expected);
  EXPECT_EQ(model.use_cache(), layout.use_cache);
  double enc_diff = 0, step_diff = 0, full_diff = 0;
  for (const auto& entry : ref.at("forward")) {
    const std::string id = entry.at("id").get<std::string>();
    const Tensor ids = int_tensor(entry.at("inputs").at("input_ids"));
    const Tensor mask = int_tensor(entry.at("inputs").at("attention_mask"));
    const EncoderOutput enc = model.encode({{"input_ids", ids}, {"attention_mask", mask}});
    const double d = max_abs_diff(enc.last_hidden_state, ref_tensor(entry.at("encoder_last_hidden_state")));
    EXPECT_LE(d, kTol) << id;
    enc_diff = std::max(enc_diff, d);
    const Json& steps = entry.at("steps");
    // forward() step by step with past (only the first step without cache).
    EncoderDecoderCache past;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
      if (!layout.use_cache) {
        if (s > 0) break;
      } else {
        ASSERT_EQ(past.empty() ? 0 : past[0].self_key.dim(2), steps[s].at("past_length").get<std::int64_t>());
      }
      Seq2SeqLMOutput out = s == 0 ? model.forward(ids, mask, dec) : model.forward({}, {}, dec, past, &enc);
      const double sd = compare_logits(out.logits, steps[s].at("logits"));
      EXPECT_LE(sd, kTol) << id << " step " << s;
      step_diff = std::max(step_diff, sd);
      past = std::move(out.past_key_values);
    }
    if (layout.use_cache) {
      const Json& shapes = entry.at("present_shapes");
      ASSERT_EQ(past.size(), shapes.size());
      for (std::size_t l = 0; l < past.size(); ++l) {
        EXPECT_EQ(past[l].self_key.shape(), shapes[l][0].get<Shape>()) << id << " layer " << l;
        EXPECT_EQ(past[l].self_value.shape(), shapes[l][1].get<Shape>()) << id << " layer " << l;
        EXPECT_EQ(past[l].cross_key.shape(), shapes[l][2].get<Shape>()) << id << " layer " << l;
        EXPECT_EQ(past[l].cross_value.shape(), shapes[l][3].get<Shape>()) << id << " layer " << l;
      }
    }
    // decoder_full: the whole decoder sequence at once, no past.
    const Tensor full_ids = int_tensor(entry.at("decoder_full").at("decoder_input_ids"));
    const Seq2SeqLMOutput full = model.forward({}, {}, full_ids, {}, &enc);
    const double fd = compare_logits(full.logits, entry.at("decoder_full").at("logits"));
    EXPECT_LE(fd, kTol) << id << " decoder_full";
    full_diff = std::max(full_diff, fd);
    // The DecoderStep: the last-position logits of every step (encoder run by start()).
    auto state = model.start(TensorMap{{"input_ids", ids}, {"attention_mask", mask}});
    ASSERT_EQ(state->rows(), ids.dim(0));
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
      const std::int64_t total = state->past_length() + 1;
      const Tensor dmask = Tensor::from_vector(std::vector<std::int64_t>(ids.dim(0) * total, 1), {ids.dim(0), total});
      const Tensor logits = state->step(dec, dmask);
      const double sd = compare_logits(logits.reshape({logits.dim(0), 1, logits.dim(1)}), steps[s].at("logits"));
      EXPECT_LE(sd, kTol) << id << " DecoderStep step " << s;
      step_diff = std::max(step_diff, sd);
    }
    EXPECT_EQ(state->past_length(), static_cast<std::int64_t>(steps.size()));
  }
  std::cout << name << " " << layout.name << ": encoder max diff " << enc_diff << ", steps " << step_diff
            << ", decoder_full " << full_diff << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Seq2SeqForward,
                         ::testing::Combine(::testing::Values("t5-tiny", "bart-tiny"), ::testing::Values(0, 1, 2)),
                         [](const auto& info) {
                           return layout_param_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

// Every generate case for every layout in Release; under the sanitizers (10x slower) the merged layout only: the
// split and no-cache layouts share the generation path and are covered there by the forward tests.
#if defined(__SANITIZE_ADDRESS__)
const auto kGenerateLayouts = ::testing::Values(0);
#else
const auto kGenerateLayouts = ::testing::Values(0, 1, 2);
#endif

class Seq2SeqGenerate : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Seq2SeqGenerate, EveryReferenceCase) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [name, layout_index] = GetParam();
  const Layout& layout = kLayouts[layout_index];
  const Json& ref = reference(fixtures, name);
  const auto model = load(fixtures, name, layout);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
  GenerateCaseDiffs worst;
  std::size_t cases = 0;
  for (const auto& c : ref.at("generate")) {
    const std::string id = c.at("id").get<std::string>() + "/" + c.at("input").get<std::string>();
    const auto& in = ref.at("generate_inputs").at(c.at("input").get<std::string>());
    generation::GenerationConfig config = defaults;
    const Json unused = config.update(c.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    const TensorMap inputs{{"input_ids", int_tensor(in.at("input_ids"))},
                           {"attention_mask", int_tensor(in.at("attention_mask"))}};
    const auto out = generation::generate(model, inputs, config);
    const auto d = check_generate_case(out, c, id, kTol);
    worst.scores = std::max(worst.scores, d.scores);
    worst.sequences_scores = std::max(worst.sequences_scores, d.sequences_scores);
    ++cases;
  }
  EXPECT_GE(cases, 30u);
  std::cout << name << " " << layout.name << ": " << cases << " generate cases, max |score diff| " << worst.scores
            << ", max |sequences_scores diff| " << worst.sequences_scores << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Seq2SeqGenerate,
                         ::testing::Combine(::testing::Values("t5-tiny", "bart-tiny"), kGenerateLayouts),
                         [](const auto& info) {
                           return layout_param_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

// Each row of the batch alone (its padding removed) gives the same sequence as in the batch, for greedy and beams.
TEST(Seq2SeqLM, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"t5-tiny", "bart-tiny"}) {
    const Json& ref = reference(fixtures, name);
    const auto model = load(fixtures, name, kLayouts[0]);
    const auto& in = ref.at("generate_inputs").at("batch");
    const auto ids = in.at("input_ids").get<std::vector<std::vector<std::int64_t>>>();
    const auto mask = in.at("attention_mask").get<std::vector<std::vector<std::int64_t>>>();
    for (const std::int64_t beams : {1, 3}) {
      auto config = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
      config.update(Json{{"max_new_tokens", 8}, {"num_beams", beams}, {"no_repeat_ngram_size", 2}});
      const auto batch = generation::generate(
          model, TensorMap{{"input_ids", int_tensor(Json(ids))}, {"attention_mask", int_tensor(Json(mask))}}, config);
      const auto all = batch.sequences.to_vector<std::int64_t>();
      const auto width = batch.sequences.dim(1);
      for (std::size_t r = 0; r < ids.size(); ++r) {
        std::vector<std::int64_t> row;
        for (std::size_t j = 0; j < ids[r].size(); ++j)
          if (mask[r][j]) row.push_back(ids[r][j]);
        const auto one = generation::generate(model, TensorMap{{"input_ids", int_tensor(Json({row}))}}, config);
        auto single = one.sequences.to_vector<std::int64_t>();
        std::vector<std::int64_t> in_batch(all.begin() + static_cast<std::int64_t>(r) * width,
                                           all.begin() + (static_cast<std::int64_t>(r) + 1) * width);
        // The batch pads shorter rows with pad_token_id at the end.
        while (in_batch.size() > single.size() && in_batch.back() == *config.pad_token_id) in_batch.pop_back();
        EXPECT_EQ(in_batch, single) << name << " beams " << beams << " row " << r;
      }
    }
  }
}

TEST(Seq2SeqLM, FileChoiceAndBadInput) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const fs::path dir = fixtures / "onnx" / "t5-tiny";
  Seq2SeqLMOptions bad;
  bad.use_cache = false;
  bad.use_merged = true;
  EXPECT_THROW(ORTModelForSeq2SeqLM::from_pretrained(dir.string(), bad), InvalidArgument);
  // A folder with only the merged decoder: use_merged=false then needs decoder_model.onnx + with-past.
  const fs::path tmp = make_temp_dir("seq2seq_files");
  fs::copy_file(dir / "encoder_model.onnx", tmp / "encoder_model.onnx");
  fs::copy_file(dir / "decoder_model.onnx", tmp / "decoder_model.onnx");
  fs::copy_file(dir / "config.json", tmp / "config.json");
  try {
    ORTModelForSeq2SeqLM::from_pretrained(tmp.string());
    ADD_FAILURE() << "use_cache=true without decoder_with_past_model.onnx must fail";
  } catch (const NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("decoder_with_past_model.onnx"), std::string::npos) << e.what();
  }
  Seq2SeqLMOptions no_cache;
  no_cache.use_cache = false;
  EXPECT_EQ(ORTModelForSeq2SeqLM::from_pretrained(tmp.string(), no_cache).layout(), DecoderLayout::NoCache);
  Seq2SeqLMOptions merged;
  merged.use_merged = true;
  EXPECT_THROW(ORTModelForSeq2SeqLM::from_pretrained(tmp.string(), merged), NotFoundError);
  fs::remove(tmp / "encoder_model.onnx");
  EXPECT_THROW(ORTModelForSeq2SeqLM::from_pretrained(tmp.string(), no_cache), NotFoundError);
  fs::remove_all(tmp);

  const auto model = ORTModelForSeq2SeqLM::from_pretrained(dir.string());
  const Tensor ids = Tensor::from_vector<std::int64_t>({5, 6, 2}, {1, 3});
  // Out-of-vocabulary ids, a wrong mask shape, an unknown encoder input, float ids.
  EXPECT_THROW(model.start(TensorMap{{"input_ids", Tensor::from_vector<std::int64_t>({5, 99999}, {1, 2})}}),
               InvalidArgument);
  EXPECT_THROW(
      model.start(TensorMap{{"input_ids", ids}, {"attention_mask", Tensor::from_vector<std::int64_t>({1, 1}, {1, 2})}}),
      InvalidArgument);
  EXPECT_THROW(model.start(TensorMap{{"input_ids", ids}, {"pixel_values", ids}}), InvalidArgument);
  EXPECT_THROW(model.start(TensorMap{{"input_ids", Tensor::from_vector<float>({1.f, 2.f}, {1, 2})}}), InvalidArgument);
  EXPECT_THROW(model.start(TensorMap{}), InvalidArgument);
  auto state = model.start(TensorMap{{"input_ids", ids}});
  // Two rows fed to a one-row state; a decoder id out of range; select_rows out of range.
  EXPECT_THROW(state->step(Tensor::from_vector<std::int64_t>({1100, 1100}, {2, 1}), {}), InvalidArgument);
  EXPECT_THROW(state->step(Tensor::from_vector<std::int64_t>({4000}, {1, 1}), {}), InvalidArgument);
  EXPECT_THROW(state->select_rows(std::vector<std::int64_t>{1}), InvalidArgument);
  // forward with a past of the wrong length / layer count.
  auto out = model.forward(ids, {}, Tensor::from_vector<std::int64_t>({1100}, {1, 1}));
  EncoderDecoderCache short_past(out.past_key_values.begin(), out.past_key_values.begin() + 1);
  EXPECT_THROW(model.forward(ids, {}, Tensor::from_vector<std::int64_t>({5}, {1, 1}), short_past), InvalidArgument);
  EncoderDecoderCache two_rows = out.past_key_values;
  EXPECT_THROW(model.forward(Tensor::from_vector<std::int64_t>({5, 6, 2, 5, 6, 2}, {2, 3}), {},
                             Tensor::from_vector<std::int64_t>({5, 5}, {2, 1}), two_rows),
               InvalidArgument);
  // generate(): no encoder inputs.
  generation::GenerationConfig c = generation::GenerationConfig::from_pretrained(fixtures / "models" / "t5-tiny");
  EXPECT_THROW(generation::generate(model, TensorMap{}, c), InvalidArgument);
}

}  // namespace
