#include "ortformers/pipelines/question_answering.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ortformers/core/error.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

namespace {
// transformers' _is_whitespace of the SQuAD utilities.
bool is_squad_whitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\r' || c == U'\n' || c == 0x202F;
}
}  // namespace

SquadExample SquadExample::from_context(const std::string& context) {
  SquadExample ex;
  const auto offs = tu::codepoint_byte_offsets(context);
  const auto cps = tu::decode_utf8(context);
  bool prev_is_whitespace = true;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (is_squad_whitespace(cps[i])) {
      prev_is_whitespace = true;
    } else {
      const std::string ch = context.substr(offs[i], offs[i + 1] - offs[i]);
      if (prev_is_whitespace) {
        ex.doc_tokens.push_back(ch);
      } else {
        ex.doc_tokens.back() += ch;
      }
      prev_is_whitespace = false;
    }
    ex.char_to_word_offset.push_back(static_cast<std::int64_t>(ex.doc_tokens.size()) - 1);
  }
  return ex;
}

std::vector<SpanScore> decode_spans(const std::vector<double>& start, const std::vector<double>& end, std::size_t top_k,
                                    std::size_t max_answer_len, const std::vector<bool>& desired) {
  const std::size_t n = start.size();
  struct Cand {
    double score;
    std::size_t flat;
    std::int64_t s, e;
  };
  std::vector<Cand> cands;
  cands.reserve(n * std::min(max_answer_len, n));
  for (std::size_t s = 0; s < n; ++s) {
    if (start[s] == 0.0) continue;
    const std::size_t last = std::min(n, s + max_answer_len);  // np.tril(np.triu(outer), max_answer_len - 1)
    for (std::size_t e = s; e < last; ++e) {
      const double v = start[s] * end[e];
      if (v > 0.0) cands.push_back({v, s * n + e, static_cast<std::int64_t>(s), static_cast<std::int64_t>(e)});
    }
  }
  const std::size_t k = std::min(top_k, cands.size());
  auto better = [](const Cand& a, const Cand& b) { return a.score != b.score ? a.score > b.score : a.flat < b.flat; };
  std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(k), cands.end(), better);
  std::vector<SpanScore> out;
  for (std::size_t i = 0; i < k; ++i) {
    const auto& c = cands[i];
    if (desired[static_cast<std::size_t>(c.s)] && desired[static_cast<std::size_t>(c.e)]) {
      out.push_back({c.s, c.e, c.score});
    }
  }
  return out;
}

std::vector<SpanScore> select_starts_ends(std::span<const float> start, std::span<const float> end,
                                          const std::vector<std::int64_t>& p_mask,
                                          const std::vector<std::int64_t>& attention_mask, double& min_null_score,
                                          std::size_t top_k, bool handle_impossible_answer,
                                          std::size_t max_answer_len) {
  const std::size_t n = start.size();
  if (end.size() != n || p_mask.size() != n || (!attention_mask.empty() && attention_mask.size() != n)) {
    throw InvalidArgument("question-answering: start/end logits, p_mask and attention_mask differ in length");
  }
  std::vector<bool> desired(n);
  for (std::size_t i = 0; i < n; ++i) {
    desired[i] = p_mask[i] == 0 && (attention_mask.empty() || attention_mask[i] != 0);
  }
  auto probs = [&](std::span<const float> logits) {
    std::vector<double> v(n);
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = desired[i] ? static_cast<double>(logits[i]) : -10000.0;
      mx = std::max(mx, v[i]);
    }
    double sum = 0.0;
    for (auto& x : v) {
      x = std::exp(x - mx);
      sum += x;
    }
    for (auto& x : v) x /= sum;
    return v;
  };
  auto s = probs(start);
  auto e = probs(end);
  if (n == 0) return {};
  if (handle_impossible_answer) min_null_score = std::min(min_null_score, s[0] * e[0]);
  s[0] = 0.0;
  e[0] = 0.0;
  return decode_spans(s, e, top_k, max_answer_len, desired);
}

QuestionAnsweringPipeline::QuestionAnsweringPipeline(const std::string& model_id_or_path,
                                                     const PipelineOptions& options)
    : model_(models::ORTModelForQuestionAnswering::from_pretrained(model_id_or_path, options.model)),
      tokenizer_(tu::load_tokenizer(model_, options)) {
  byte_level_ = tu::is_byte_level(*tokenizer_);
  // The pair layout of the tokenizer's post-processor, read off a two-token pair.
  const auto probe = tu::encode_pair_with_special_tokens(*tokenizer_, "a", "b");
  int section = 0;  // 0 prefix, 1 first sequence, 2 middle, 3 second sequence, 4 suffix
  for (std::size_t i = 0; i < probe.ids.size(); ++i) {
    const auto seq = probe.sequence_ids[i];
    if (seq && *seq == 0) {
      section = 1;
      template_.first_type = probe.type_ids[i];
    } else if (seq && *seq == 1) {
      section = 3;
      template_.second_type = probe.type_ids[i];
    } else {
      if (section == 1) section = 2;
      if (section == 3) section = 4;
      auto& ids = section == 0 ? template_.prefix : section == 2 ? template_.middle : template_.suffix;
      auto& types = section == 0   ? template_.prefix_types
                    : section == 2 ? template_.middle_types
                                   : template_.suffix_types;
      ids.push_back(probe.ids[i]);
      types.push_back(probe.type_ids[i]);
    }
  }
}

QuestionAnsweringPipeline::~QuestionAnsweringPipeline() = default;

std::vector<QuestionAnsweringFeature> QuestionAnsweringPipeline::features(
    const std::string& question, const SquadExample& example, const QuestionAnsweringOptions& options) const {
  const std::size_t max_seq_len =
      options.max_seq_len.value_or(std::min<std::size_t>(tokenizer_->model_max_length(), 384));
  const std::size_t doc_stride = options.doc_stride.value_or(std::min<std::size_t>(max_seq_len / 2, 128));
  if (doc_stride > max_seq_len) {
    throw InvalidArgument("question-answering: `doc_stride` (" + std::to_string(doc_stride) +
                          ") is larger than `max_seq_len` (" + std::to_string(max_seq_len) + ")");
  }
  if (doc_stride == 0) throw InvalidArgument("question-answering: `doc_stride` must be at least 1");
  // Sub-tokens of every whitespace word.
  std::vector<std::int64_t> doc_ids, tok_to_orig;
  for (std::size_t i = 0; i < example.doc_tokens.size(); ++i) {
    const auto ids = tu::encode_ids(*tokenizer_, byte_level_ ? " " + example.doc_tokens[i] : example.doc_tokens[i]);
    for (auto id : ids) {
      doc_ids.push_back(id);
      tok_to_orig.push_back(static_cast<std::int64_t>(i));
    }
  }
  auto q_ids = tu::encode_ids(*tokenizer_, question);
  if (q_ids.size() > options.max_question_len) q_ids.resize(options.max_question_len);
  const std::size_t n_special = template_.prefix.size() + template_.middle.size() + template_.suffix.size();
  if (q_ids.size() + n_special >= max_seq_len) {
    throw InvalidArgument(
        "question-answering: the question (" + std::to_string(q_ids.size()) + " tokens after max_question_len=" +
        std::to_string(options.max_question_len) + ") plus " + std::to_string(n_special) +
        " special tokens leaves no room for the context within max_seq_len=" + std::to_string(max_seq_len));
  }
  const std::size_t window = max_seq_len - q_ids.size() - n_special;
  const auto cls = tokenizer_->cls_token_id();
  const auto special_ids = tokenizer_->all_special_ids();
  std::vector<QuestionAnsweringFeature> out;
  for (std::size_t k = 0; k * doc_stride < doc_ids.size(); ++k) {
    const std::size_t begin = k * doc_stride;
    const std::size_t len = std::min(doc_ids.size() - begin, window);
    QuestionAnsweringFeature f;
    auto add = [&](const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& types, std::int64_t p) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        f.input_ids.push_back(ids[i]);
        f.token_type_ids.push_back(types[i]);
        f.p_mask.push_back(p);
        f.token_to_orig_map.push_back(-1);
      }
    };
    add(template_.prefix, template_.prefix_types, 1);
    add(q_ids, std::vector<std::int64_t>(q_ids.size(), template_.first_type), 1);
    add(template_.middle, template_.middle_types, 1);
    for (std::size_t i = 0; i < len; ++i) {
      f.input_ids.push_back(doc_ids[begin + i]);
      f.token_type_ids.push_back(template_.second_type);
      f.p_mask.push_back(0);
      f.token_to_orig_map.push_back(tok_to_orig[begin + i]);
    }
    add(template_.suffix, template_.suffix_types, 1);
    f.attention_mask.assign(f.input_ids.size(), 1);
    // squad_convert_example_to_features: p_mask is 1 on every special token of the window
    // (get_special_tokens_mask(already_has_special_tokens=True)), so context tokens that are [UNK] (an emoji, a
    // character outside the vocabulary) can be neither an answer's start nor its end, nor take part in the softmax.
    for (std::size_t i = 0; i < f.input_ids.size(); ++i) {
      if (std::find(special_ids.begin(), special_ids.end(), f.input_ids[i]) != special_ids.end()) f.p_mask[i] = 1;
    }
    if (cls) {  // the classifier token stays selectable (impossible answers)
      auto it = std::find(f.input_ids.begin(), f.input_ids.end(), *cls);
      if (it != f.input_ids.end()) f.p_mask[static_cast<std::size_t>(it - f.input_ids.begin())] = 0;
    }
    out.push_back(std::move(f));
    if (begin + window >= doc_ids.size()) break;  // no overflowing tokens left
  }
  return out;
}

std::vector<QuestionAnsweringAnswer> QuestionAnsweringPipeline::operator()(
    const std::string& question, const std::string& context, const QuestionAnsweringOptions& options) const {
  tu::require_non_empty(question, "question", task());
  tu::require_non_empty(context, "context", task());
  if (options.top_k < 1) throw InvalidArgument("question-answering: top_k parameter should be >= 1 (got 0)");
  if (options.max_answer_len < 1) {
    throw InvalidArgument("question-answering: max_answer_len parameter should be >= 1 (got 0)");
  }
  const SquadExample example = SquadExample::from_context(context);
  const auto feats = features(question, example, options);
  double min_null_score = 1000000.0;
  std::vector<QuestionAnsweringAnswer> answers;
  const bool has_types = model_.session().has_input("token_type_ids");
  for (const auto& f : feats) {
    const auto n = static_cast<std::int64_t>(f.input_ids.size());
    TensorMap inputs;
    inputs.emplace("input_ids", Tensor::from_vector(f.input_ids, {1, n}));
    inputs.emplace("attention_mask", Tensor::from_vector(f.attention_mask, {1, n}));
    if (has_types) inputs.emplace("token_type_ids", Tensor::from_vector(f.token_type_ids, {1, n}));
    const auto out = model_.forward(inputs);
    const auto start = out.start_logits.to_float_vector();
    const auto end = out.end_logits.to_float_vector();
    const auto spans = select_starts_ends(start, end, f.p_mask, f.attention_mask, min_null_score, options.top_k,
                                          options.handle_impossible_answer, options.max_answer_len);
    for (const auto& sp : spans) {
      const auto ws = f.token_to_orig_map[static_cast<std::size_t>(sp.start)];
      const auto we = f.token_to_orig_map[static_cast<std::size_t>(sp.end)];
      if (ws < 0 || we < 0) continue;  // the classifier token: no words
      const auto& c2w = example.char_to_word_offset;
      const auto first = std::find(c2w.begin(), c2w.end(), ws);
      const auto last = std::find(c2w.rbegin(), c2w.rend(), we);
      QuestionAnsweringAnswer a;
      a.score = sp.score;
      a.start = static_cast<std::size_t>(first - c2w.begin());
      a.end = static_cast<std::size_t>(c2w.rend() - last) - 1;
      for (auto w = ws; w <= we; ++w) {
        if (w > ws) a.answer += ' ';
        a.answer += example.doc_tokens[static_cast<std::size_t>(w)];
      }
      answers.push_back(std::move(a));
    }
  }
  if (options.handle_impossible_answer) answers.push_back({min_null_score, 0, 0, ""});
  std::stable_sort(
      answers.begin(), answers.end(),
      [](const QuestionAnsweringAnswer& a, const QuestionAnsweringAnswer& b) { return a.score > b.score; });
  if (answers.size() > options.top_k) answers.resize(options.top_k);
  return answers;
}

namespace {

std::size_t positive_size(const Json& kwargs, const std::string& key, std::size_t fallback) {
  if (!kwargs.is_object() || !kwargs.contains(key) || kwargs.at(key).is_null()) return fallback;
  const auto v = kwarg<std::int64_t>(kwargs, key, 0);
  if (v < 1) {
    throw InvalidArgument("question-answering: " + key + " parameter should be >= 1 (got " + std::to_string(v) + ")");
  }
  return static_cast<std::size_t>(v);
}

}  // namespace

Json QuestionAnsweringPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs,
               {"top_k", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len", "handle_impossible_answer",
                "align_to_words", "question", "context"},
               task());
  QuestionAnsweringOptions opts;
  opts.top_k = positive_size(kwargs, "top_k", 1);
  opts.max_answer_len = positive_size(kwargs, "max_answer_len", 15);
  opts.max_question_len = positive_size(kwargs, "max_question_len", 64);
  if (kwargs.contains("doc_stride") && !kwargs.at("doc_stride").is_null()) {
    opts.doc_stride = positive_size(kwargs, "doc_stride", 128);
  }
  if (kwargs.contains("max_seq_len") && !kwargs.at("max_seq_len").is_null()) {
    opts.max_seq_len = positive_size(kwargs, "max_seq_len", 384);
  }
  opts.handle_impossible_answer = kwarg<bool>(kwargs, "handle_impossible_answer", false);
  opts.align_to_words = kwarg<bool>(kwargs, "align_to_words", true);

  auto one = [&](const Json& item) -> Json {
    if (!item.is_object() || !item.contains("question") || !item.contains("context")) {
      throw InvalidArgument(
          "question-answering: an input must be an object {\"question\": ..., \"context\": ...}, got " +
          item.dump().substr(0, 200));
    }
    if (!item.at("question").is_string() || !item.at("context").is_string()) {
      throw InvalidArgument("question-answering: `question` and `context` must be strings");
    }
    const auto answers = (*this)(item.at("question").get<std::string>(), item.at("context").get<std::string>(), opts);
    Json list = Json::array();
    for (const auto& a : answers) {
      list.push_back({{"score", a.score}, {"start", a.start}, {"end", a.end}, {"answer", a.answer}});
    }
    if (list.size() == 1) return list.at(0);
    return list;
  };
  Json in = input;
  if ((in.is_null() || (in.is_object() && in.empty())) && kwargs.contains("question") && kwargs.contains("context")) {
    in = Json{{"question", kwargs.at("question")}, {"context", kwargs.at("context")}};
  }
  if (in.is_array()) {
    Json out = Json::array();
    for (const auto& item : in) out.push_back(one(item));
    return out;
  }
  return one(in);
}

ORTFORMERS_REGISTER_PIPELINE("question-answering", make_pipeline<QuestionAnsweringPipeline>);

}  // namespace ortformers::pipelines
