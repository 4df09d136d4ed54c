// ORTModelForVision2Seq (ViT + GPT-2) and ORTModelForPix2Struct against transformers 4.31
// (reference/vit-gpt2-tiny.json, reference/pix2struct-tiny.json) on optimum 1.17's image-to-text-with-past exports, for
// the merged decoder, the split decoders and use_cache=false: processor -> encoder output, decoder logits without and
// with past (one image and a batch of three), the decoder sequence at once, present shapes, the DecoderStep; every
// `generate` case (sequences identical, processed scores and sequences_scores within 1e-4); a batch equals its images
// one at a time; bad input.
#include <gtest/gtest.h>

#include <map>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/models/vision2seq.hpp"
#include "support/fixtures.hpp"
#include "support/generative_reference.hpp"
#include "support/image_to_text_reference.hpp"

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

using ortformers::testing::is_pix2struct;

std::unique_ptr<ORTModelForConditionalGeneration> load(const fs::path& fixtures, const std::string& name,
                                                       const Layout& l) {
  Vision2SeqOptions o;
  o.use_cache = l.use_cache;
  o.use_merged = l.use_merged;
  const std::string dir = (fixtures / "onnx" / name).string();
  if (is_pix2struct(name))
    return std::make_unique<ORTModelForPix2Struct>(ORTModelForPix2Struct::from_pretrained(dir, o));
  return std::make_unique<ORTModelForVision2Seq>(ORTModelForVision2Seq::from_pretrained(dir, o));
}

TensorMap encoder_inputs(const fs::path& fixtures, const std::string& name, const std::string& key) {
  return ortformers::testing::image_to_text_inputs(fixtures, name, key);
}
const auto& ones = ortformers::testing::ones_mask;
const auto& row_of = ortformers::testing::batch_row;

class Vision2SeqForward : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Vision2SeqForward, MatchesTransformers) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [name, layout_index] = GetParam();
  const Layout& layout = kLayouts[layout_index];
  const Json& ref = reference(fixtures, name);
  const auto model = load(fixtures, name, layout);
  EXPECT_EQ(model->layout(), layout.expected);
  double enc_diff = 0, step_diff = 0, full_diff = 0;
  ASSERT_EQ(ref.at("forward").size(), 2u);
  for (const auto& entry : ref.at("forward")) {
    const std::string id = entry.at("id").get<std::string>();
    const TensorMap inputs = encoder_inputs(fixtures, name, entry.at("input").get<std::string>());
    const EncoderOutput enc = model->encode(inputs);
    const double d = max_abs_diff(enc.last_hidden_state, ref_tensor(entry.at("encoder_last_hidden_state")));
    EXPECT_LE(d, kTol) << id;
    enc_diff = std::max(enc_diff, d);
    const std::int64_t rows = enc.last_hidden_state.dim(0);
    const Json& steps = entry.at("steps");
    EncoderDecoderCache past;
    for (std::size_t s = 0; s < steps.size() && (layout.use_cache || s == 0); ++s) {
      const Tensor dec = int_tensor(steps[s].at("decoder_input_ids"));
      ASSERT_EQ(past.empty() ? 0 : past[0].self_key.dim(2), steps[s].at("past_length").get<std::int64_t>());
      const std::int64_t total = static_cast<std::int64_t>(s) + 1;
      Seq2SeqLMOutput out = model->decode(dec, enc, past, ones(rows, total));
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
        if (shapes[l].size() == 4) {
          EXPECT_EQ(past[l].cross_key.shape(), shapes[l][2].get<Shape>()) << id << " layer " << l;
          EXPECT_EQ(past[l].cross_value.shape(), shapes[l][3].get<Shape>()) << id << " layer " << l;
        } else {
          EXPECT_FALSE(past[l].cross_key.defined()) << id << ": GPT-2's cross-attention is not cached";
        }
      }
    }
    const Tensor full_ids = int_tensor(entry.at("decoder_full").at("decoder_input_ids"));
    const Seq2SeqLMOutput full = model->decode(full_ids, enc, {}, ones(rows, full_ids.dim(1)));
    const double fd = compare_logits(full.logits, entry.at("decoder_full").at("logits"));
    EXPECT_LE(fd, kTol) << id << " decoder_full";
    full_diff = std::max(full_diff, fd);
    auto state = model->start(inputs);
    ASSERT_EQ(state->rows(), rows);
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Tensor logits =
          state->step(int_tensor(steps[s].at("decoder_input_ids")), ones(rows, state->past_length() + 1));
      const double sd = compare_logits(logits.reshape({logits.dim(0), 1, logits.dim(1)}), steps[s].at("logits"));
      EXPECT_LE(sd, kTol) << id << " DecoderStep step " << s;
      step_diff = std::max(step_diff, sd);
    }
  }
  std::cout << name << " " << layout.name << ": encoder max diff " << enc_diff << ", steps " << step_diff
            << ", decoder_full " << full_diff << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Vision2SeqForward,
                         ::testing::Combine(::testing::Values("vit-gpt2-tiny", "pix2struct-tiny"),
                                            ::testing::Values(0, 1, 2)),
                         [](const auto& info) {
                           return ortformers::testing::layout_param_name(std::get<0>(info.param),
                                                                         std::get<1>(info.param));
                         });

// Every generate case for every layout in Release; under the sanitizers (10x slower) the merged layout only: the
// split and no-cache layouts share the generation path and are covered there by the forward tests.
#if defined(__SANITIZE_ADDRESS__)
const auto kGenerateLayouts = ::testing::Values(0);
#else
const auto kGenerateLayouts = ::testing::Values(0, 1, 2);
#endif

class Vision2SeqGenerate : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Vision2SeqGenerate, EveryReferenceCase) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto& [name, layout_index] = GetParam();
  const Json& ref = reference(fixtures, name);
  const auto model = load(fixtures, name, kLayouts[layout_index]);
  const auto defaults = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
  GenerateCaseDiffs worst;
  std::size_t cases = 0;
  std::map<std::string, TensorMap> inputs;
  for (const auto& c : ref.at("generate")) {
    const std::string key = c.at("input").get<std::string>();
    const std::string id = c.at("id").get<std::string>() + "/" + key;
    if (!inputs.count(key)) inputs[key] = encoder_inputs(fixtures, name, key);
    generation::GenerationConfig config = defaults;
    const Json unused = config.update(c.at("kwargs"));
    ASSERT_TRUE(unused.empty()) << id << ": " << unused.dump();
    config.output_scores = true;
    config.return_dict_in_generate = true;
    const auto out = generation::generate(*model, inputs[key], config);
    const auto d = check_generate_case(out, c, id, kTol);
    worst.scores = std::max(worst.scores, d.scores);
    worst.sequences_scores = std::max(worst.sequences_scores, d.sequences_scores);
    ++cases;
  }
  EXPECT_GE(cases, 26u);
  std::cout << name << " " << kLayouts[layout_index].name << ": " << cases << " generate cases, max |score diff| "
            << worst.scores << ", max |sequences_scores diff| " << worst.sequences_scores << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Vision2SeqGenerate,
                         ::testing::Combine(::testing::Values("vit-gpt2-tiny", "pix2struct-tiny"), kGenerateLayouts),
                         [](const auto& info) {
                           return ortformers::testing::layout_param_name(std::get<0>(info.param),
                                                                         std::get<1>(info.param));
                         });

// Each image alone gives the same sequence as in the batch (greedy and beams).
TEST(Vision2Seq, BatchEqualsOneAtATime) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"vit-gpt2-tiny", "pix2struct-tiny"}) {
    const auto model = load(fixtures, name, kLayouts[0]);
    const TensorMap batch_inputs = encoder_inputs(fixtures, name, "batch");
    const auto paths = reference(fixtures, name).at("generate_inputs").at("batch");
    for (const std::int64_t beams : {1, 3}) {
      auto config = generation::GenerationConfig::from_pretrained(fixtures / "models" / name);
      config.update(Json{{"max_new_tokens", 8}, {"num_beams", beams}, {"no_repeat_ngram_size", 2}});
      const auto batch = generation::generate(*model, batch_inputs, config);
      const auto width = batch.sequences.dim(1);
      const auto all = batch.sequences.to_vector<std::int64_t>();
      for (std::int64_t r = 0; r < static_cast<std::int64_t>(paths.size()); ++r) {
        TensorMap one;
        for (const auto& [k, t] : batch_inputs) one[k] = row_of(t, r);
        const auto single = generation::generate(*model, one, config).sequences.to_vector<std::int64_t>();
        std::vector<std::int64_t> in_batch(all.begin() + r * width, all.begin() + (r + 1) * width);
        while (in_batch.size() > single.size() && in_batch.back() == *config.pad_token_id) in_batch.pop_back();
        EXPECT_EQ(in_batch, single) << name << " beams " << beams << " image " << r;
      }
    }
  }
}

TEST(Vision2Seq, BadInputGivesClearErrors) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto vit = ORTModelForVision2Seq::from_pretrained((fixtures / "onnx" / "vit-gpt2-tiny").string());
  const auto p2s = ORTModelForPix2Struct::from_pretrained((fixtures / "onnx" / "pix2struct-tiny").string());
  // The wrong class for the folder.
  EXPECT_THROW(ORTModelForVision2Seq::from_pretrained((fixtures / "onnx" / "pix2struct-tiny").string()),
               UnsupportedError);
  EXPECT_THROW(ORTModelForPix2Struct::from_pretrained((fixtures / "onnx" / "t5-tiny").string()), UnsupportedError);
  const Tensor pixels = Tensor::zeros(DType::Float32, {1, 3, 32, 32});
  EXPECT_NO_THROW(vit.encode({{"pixel_values", pixels}}));
  try {
    vit.encode({{"pixel_values", Tensor::zeros(DType::Float32, {1, 3, 16, 16})}});
    ADD_FAILURE() << "a 16x16 image for a 32x32 ViT must fail";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pixel_values"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vit.encode({{"pixel_values", Tensor::zeros(DType::Float32, {3, 32, 32})}}), InvalidArgument);
  EXPECT_THROW(vit.encode({{"pixel_values", Tensor::zeros(DType::Int64, {1, 3, 32, 32})}}), InvalidArgument);
  EXPECT_THROW(vit.encode({{"pixel_values", pixels}, {"input_ids", Tensor::zeros(DType::Int64, {1, 2})}}),
               InvalidArgument);
  EXPECT_THROW(vit.encode({}), InvalidArgument);
  const Tensor patches = Tensor::zeros(DType::Float32, {1, 48, 194});
  EXPECT_NO_THROW(p2s.encode({{"flattened_patches", patches}}));  // mask defaults to ones
  EXPECT_THROW(p2s.encode({{"flattened_patches", Tensor::zeros(DType::Float32, {1, 48, 100})}}), InvalidArgument);
  EXPECT_THROW(p2s.encode({{"flattened_patches", patches}, {"attention_mask", Tensor::zeros(DType::Float32, {1, 40})}}),
               InvalidArgument);
  EXPECT_THROW(p2s.encode({{"attention_mask", Tensor::zeros(DType::Float32, {1, 48})}}), InvalidArgument);
  // Decoder ids out of the vocabulary.
  auto state = vit.start({{"pixel_values", pixels}});
  EXPECT_THROW(state->step(Tensor::from_vector<std::int64_t>({60000}, {1, 1}), {}), InvalidArgument);
  // forward() goes through the same checks.
  EXPECT_EQ(vit.forward(pixels, Tensor::from_vector<std::int64_t>({50256}, {1, 1})).logits.dim(2), 50257);
  EXPECT_EQ(p2s.forward(patches, {}, Tensor::from_vector<std::int64_t>({1100}, {1, 1})).logits.dim(2), 1101);
}

}  // namespace
