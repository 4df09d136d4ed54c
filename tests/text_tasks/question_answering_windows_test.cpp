// question-answering on a context that needs several windows (max_seq_len 96, doc_stride 32) and mixes accents, CJK
// and emoji (which bert-base-uncased's vocabulary maps to [UNK]): every window and its p_mask against transformers
// 4.31's slow-tokenizer rules (squad_convert_example_to_features), restated here the way squad.py computes them
// (windows from the overflowing tokens of a pair truncated with `stride`; p_mask 1 outside the context and on every
// special token, [UNK] included, 0 on the first [CLS]), and the pipeline's answer and score against
// select_starts_ends over those windows.
#include <gtest/gtest.h>

#include <algorithm>

#include "ortformers/pipelines/question_answering.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "pipelines/text_utils.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::pipelines;

namespace {

const char* kQuestion = "Where did the baker open her second café?";
const char* kContext =
    "Amélie Dupré grew up in Besançon 🙂 and learned to bake from her grandmother, whose crème brûlée was "
    "famous "
    "across the Franche-Comté. After school she travelled to 東京 and 北京 to study pastry 🍰 with masters who "
    "taught her patience, precision and the art of the perfect crêpe. Back in France she opened her first café in "
    "Dijon, a small place with six tables 🎉 and a piano. The café was named Chez Amélie and its croissants drew "
    "queues every Sunday. Years later, encouraged by her friend Søren from Århus and by the chef Zoë Müller from "
    "Zürich, she opened her second café in Lyon near the Saône, where she now serves matcha 抹茶 tarts, naïve "
    "paintings hang on the walls 🖼️ and the menu is written in French, Japanese and Danish. Critics praised the "
    "façade, the jalapeño focaccia and the smörgåsbord brunch; the café won a regional prize 🏆 in its first year.";

struct RefWindow {
  std::vector<std::int64_t> input_ids, token_type_ids, p_mask;
};

// squad_convert_example_to_features (padding_side right, no padding): the context sub-tokens of every window come
// from the overflowing tokens of the previous tokenizer.encode_plus(query, span_doc_tokens, truncation=only_second,
// max_length=max_seq_len, stride=max_seq_len - doc_stride - len(query) - pair_added_tokens).
std::vector<RefWindow> squad_windows(const tokenizers::PreTrainedTokenizer& tok, const SquadExample& example,
                                     std::size_t max_seq_len, std::size_t doc_stride) {
  std::vector<std::int64_t> all_doc_tokens;
  for (const auto& word : example.doc_tokens) {
    for (auto id : text_utils::encode_ids(tok, word)) all_doc_tokens.push_back(id);
  }
  const auto query = text_utils::encode_ids(tok, kQuestion);
  const std::size_t added = tok.num_special_tokens_to_add(true);
  const auto stride = static_cast<std::ptrdiff_t>(max_seq_len - doc_stride - query.size() - added);
  const auto special = tok.all_special_ids();
  const std::int64_t cls = *tok.cls_token_id(), sep = *tok.sep_token_id();
  std::vector<RefWindow> out;
  std::vector<std::int64_t> span_doc = all_doc_tokens;
  while (out.size() * doc_stride < all_doc_tokens.size()) {
    const auto total = static_cast<std::ptrdiff_t>(query.size() + span_doc.size() + added);
    const std::ptrdiff_t num_to_remove = total - static_cast<std::ptrdiff_t>(max_seq_len);
    std::vector<std::int64_t> pair = span_doc, overflow;
    if (num_to_remove > 0) {
      const auto len = static_cast<std::ptrdiff_t>(span_doc.size());
      const std::ptrdiff_t window_len = std::min(len, stride + num_to_remove);
      overflow.assign(span_doc.end() - window_len, span_doc.end());
      pair.resize(static_cast<std::size_t>(len - num_to_remove));
    }
    RefWindow w;
    w.input_ids.push_back(cls);
    w.input_ids.insert(w.input_ids.end(), query.begin(), query.end());
    w.input_ids.push_back(sep);
    w.input_ids.insert(w.input_ids.end(), pair.begin(), pair.end());
    w.input_ids.push_back(sep);
    w.token_type_ids.assign(w.input_ids.size(), 0);
    w.p_mask.assign(w.input_ids.size(), 1);
    for (std::size_t i = query.size() + 2; i < w.p_mask.size(); ++i) w.p_mask[i] = 0, w.token_type_ids[i] = 1;
    for (std::size_t i = 0; i < w.input_ids.size(); ++i) {
      if (std::find(special.begin(), special.end(), w.input_ids[i]) != special.end()) w.p_mask[i] = 1;
    }
    w.p_mask[static_cast<std::size_t>(std::find(w.input_ids.begin(), w.input_ids.end(), cls) - w.input_ids.begin())] =
        0;
    out.push_back(std::move(w));
    if (overflow.empty()) break;
    span_doc = std::move(overflow);
  }
  return out;
}

}  // namespace

TEST(QuestionAnsweringWindows, MultiWindowContextWithUnknownTokensFollowsSquadRules) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  QuestionAnsweringPipeline pipe((fixtures / "onnx" / "bert-tiny-qa").string());
  const auto& tok = pipe.tokenizer();
  const auto unk = *tok.unk_token_id();
  const auto example = SquadExample::from_context(kContext);
  QuestionAnsweringOptions opts;
  opts.max_seq_len = 96;
  opts.doc_stride = 32;
  const auto feats = pipe.features(kQuestion, example, opts);
  const auto ref = squad_windows(tok, example, 96, 32);
  ASSERT_GE(ref.size(), 3u);
  ASSERT_EQ(feats.size(), ref.size());
  std::size_t unk_in_context = 0;
  for (std::size_t w = 0; w < ref.size(); ++w) {
    EXPECT_EQ(feats[w].input_ids, ref[w].input_ids) << "window " << w;
    EXPECT_EQ(feats[w].token_type_ids, ref[w].token_type_ids) << "window " << w;
    EXPECT_EQ(feats[w].p_mask, ref[w].p_mask) << "window " << w;
    for (std::size_t i = 0; i < ref[w].input_ids.size(); ++i) unk_in_context += ref[w].input_ids[i] == unk;
  }
  EXPECT_GT(unk_in_context, 0u) << "the context should hold characters outside the vocabulary";

  // The answer: the best span over the windows as select_starts_ends scores it on each window's logits.
  double best = -1.0;
  double min_null = 1e6;
  for (const auto& w : ref) {
    const auto n = static_cast<std::int64_t>(w.input_ids.size());
    TensorMap in;
    in.emplace("input_ids", Tensor::from_vector(w.input_ids, {1, n}));
    in.emplace("attention_mask", Tensor::from_vector(std::vector<std::int64_t>(w.input_ids.size(), 1), {1, n}));
    in.emplace("token_type_ids", Tensor::from_vector(w.token_type_ids, {1, n}));
    const auto out = pipe.model().run(in);
    const auto start = out.at("start_logits").to_float_vector();
    const auto end = out.at("end_logits").to_float_vector();
    for (const auto& s : select_starts_ends(start, end, w.p_mask, {}, min_null, 1, false, 15)) {
      best = std::max(best, s.score);
    }
  }
  const auto answers = pipe(kQuestion, kContext, opts);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_NEAR(answers[0].score, best, 1e-7);
}
