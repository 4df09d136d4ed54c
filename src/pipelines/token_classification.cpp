#include "ortformers/pipelines/token_classification.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "ortformers/core/error.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

AggregationStrategy aggregation_strategy_from_string(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "none") return AggregationStrategy::None;
  if (n == "simple") return AggregationStrategy::Simple;
  if (n == "first") return AggregationStrategy::First;
  if (n == "average") return AggregationStrategy::Average;
  if (n == "max") return AggregationStrategy::Max;
  throw InvalidArgument(
      "token-classification: aggregation_strategy must be one of none, simple, first, average, max; got '" + name +
      "'");
}

std::string to_string(AggregationStrategy strategy) {
  switch (strategy) {
    case AggregationStrategy::None: return "none";
    case AggregationStrategy::Simple: return "simple";
    case AggregationStrategy::First: return "first";
    case AggregationStrategy::Average: return "average";
    case AggregationStrategy::Max: return "max";
  }
  return "none";
}

std::string join_wordpiece_tokens(const std::vector<std::string>& tokens, const std::string& prefix) {
  std::string joined;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) joined += ' ';
    joined += tokens[i];
  }
  // .replace(" ##", "")
  const std::string pattern = " " + prefix;
  std::string out;
  out.reserve(joined.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = prefix.empty() ? std::string::npos : joined.find(pattern, pos);
    if (hit == std::string::npos) {
      out.append(joined, pos, std::string::npos);
      break;
    }
    out.append(joined, pos, hit - pos);
    pos = hit + pattern.size();
  }
  // .strip() (Python strips Unicode whitespace; tokens never carry any other than ASCII spaces here)
  const auto first = out.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t\n\r\f\v");
  return out.substr(first, last - first + 1);
}

namespace {

std::size_t argmax(const std::vector<double>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::pair<std::string, std::string> get_tag(const std::string& entity_name) {
  if (entity_name.rfind("B-", 0) == 0) return {"B", entity_name.substr(2)};
  if (entity_name.rfind("I-", 0) == 0) return {"I", entity_name.substr(2)};
  return {"I", entity_name};
}

TokenEntity group_sub_entities(const std::vector<TokenEntity>& entities, const TokensToString& tokens_to_string) {
  const std::string& first = entities.front().entity;
  const auto dash = first.rfind('-');
  TokenEntity g;
  g.grouped = true;
  g.entity = dash == std::string::npos ? first : first.substr(dash + 1);  // split("-")[-1]
  double sum = 0.0;
  std::size_t n = 0;
  std::vector<std::string> words;
  for (const auto& e : entities) {
    if (!std::isnan(e.score)) {
      sum += e.score;
      ++n;
    }
    words.push_back(e.word);
  }
  g.score = n ? sum / static_cast<double>(n) : std::nan("");
  g.word = tokens_to_string(words);
  g.start = entities.front().start;
  g.end = entities.back().end;
  return g;
}

std::vector<TokenEntity> group_entities(const std::vector<TokenEntity>& entities, const TokensToString& tts) {
  std::vector<TokenEntity> groups;
  std::vector<TokenEntity> disagg;
  for (const auto& e : entities) {
    if (disagg.empty()) {
      disagg.push_back(e);
      continue;
    }
    const auto [bi, tag] = get_tag(e.entity);
    const auto [last_bi, last_tag] = get_tag(disagg.back().entity);
    (void)last_bi;
    if (tag == last_tag && bi != "B") {
      disagg.push_back(e);
    } else {
      groups.push_back(group_sub_entities(disagg, tts));
      disagg = {e};
    }
  }
  if (!disagg.empty()) groups.push_back(group_sub_entities(disagg, tts));
  return groups;
}

TokenEntity aggregate_word(const std::vector<const PreEntity*>& group, AggregationStrategy strategy,
                           const config::PretrainedConfig& config, const TokensToString& tts) {
  std::vector<std::string> words;
  for (const auto* p : group) words.push_back(p->word);
  TokenEntity e;
  e.word = tts(words);
  if (strategy == AggregationStrategy::First) {
    const auto& s = group.front()->scores;
    const auto idx = argmax(s);
    e.score = s[idx];
    e.entity = tu::label_for(config, static_cast<std::int64_t>(idx));
  } else if (strategy == AggregationStrategy::Max) {
    const PreEntity* best = group.front();
    double best_max = *std::max_element(best->scores.begin(), best->scores.end());
    for (const auto* p : group) {
      const double m = *std::max_element(p->scores.begin(), p->scores.end());
      if (m > best_max) {
        best = p;
        best_max = m;
      }
    }
    const auto idx = argmax(best->scores);
    e.score = best->scores[idx];
    e.entity = tu::label_for(config, static_cast<std::int64_t>(idx));
  } else {  // Average (np.nanmean over the tokens)
    const std::size_t n = group.front()->scores.size();
    std::vector<double> avg(n, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      double sum = 0.0;
      std::size_t count = 0;
      for (const auto* p : group) {
        if (!std::isnan(p->scores[k])) {
          sum += p->scores[k];
          ++count;
        }
      }
      avg[k] = count ? sum / static_cast<double>(count) : std::nan("");
    }
    const auto idx = argmax(avg);
    e.score = avg[idx];
    e.entity = tu::label_for(config, static_cast<std::int64_t>(idx));
  }
  e.start = group.front()->start;
  e.end = group.back()->end;
  return e;
}

}  // namespace

std::vector<TokenEntity> postprocess_token_classification(
    const std::string& sentence, const TokenClassificationChunk& chunk, const config::PretrainedConfig& config,
    AggregationStrategy strategy, const std::vector<std::string>& ignore_labels,
    const std::string& continuing_subword_prefix, std::optional<std::int64_t> unk_token_id,
    const TokensToString& tokens_to_string) {
  const std::size_t n_tokens = chunk.input_ids.size();
  if (chunk.tokens.size() != n_tokens || chunk.special_tokens_mask.size() != n_tokens ||
      (chunk.offsets && chunk.offsets->size() != n_tokens)) {
    throw InvalidArgument("token-classification: tokens, ids, special_tokens_mask and offsets differ in length");
  }
  if (n_tokens == 0) return {};
  if (chunk.logits.size() % n_tokens != 0) {
    throw InvalidArgument("token-classification: logits do not have one row per token");
  }
  const std::size_t n_labels = chunk.logits.size() / n_tokens;
  tu::check_num_labels(config, static_cast<std::int64_t>(n_labels), "token-classification");
  if (!chunk.offsets && (strategy == AggregationStrategy::First || strategy == AggregationStrategy::Average ||
                         strategy == AggregationStrategy::Max)) {
    throw InvalidArgument("token-classification: aggregation_strategy '" + to_string(strategy) +
                          "' needs the tokenizer's offsets (\"Slow tokenizers cannot handle subwords. Please set the "
                          "`aggregation_strategy` option to `\"simple\"` or use a fast tokenizer.\")");
  }

  // gather_pre_entities
  std::vector<PreEntity> pre;
  std::vector<std::size_t> cp_offsets;  // code point -> byte, computed once
  std::vector<char32_t> cps;
  if (chunk.offsets) cps = tu::decode_utf8(sentence);
  if (chunk.offsets) cp_offsets = tu::codepoint_byte_offsets(sentence);
  for (std::size_t idx = 0; idx < n_tokens; ++idx) {
    if (chunk.special_tokens_mask[idx]) continue;
    PreEntity p;
    p.word = chunk.tokens[idx];
    p.index = static_cast<std::int64_t>(idx);
    p.scores = tu::softmax(std::span<const float>(chunk.logits.data() + idx * n_labels, n_labels));
    if (chunk.offsets) {
      const std::size_t n_cp = cps.size();
      const std::size_t s = std::min((*chunk.offsets)[idx].first, n_cp);
      const std::size_t e = std::min(std::max((*chunk.offsets)[idx].second, s), n_cp);
      const std::string word_ref = sentence.substr(cp_offsets[s], cp_offsets[e] - cp_offsets[s]);
      if (!continuing_subword_prefix.empty()) {
        p.is_subword = tu::codepoint_length(p.word) != e - s;
      } else {
        p.is_subword = s > 0 ? cps[s - 1] != U' ' : false;
      }
      if (unk_token_id && chunk.input_ids[idx] == *unk_token_id) {
        p.word = word_ref;
        p.is_subword = false;
      }
      p.start = s;
      p.end = e;
    }
    pre.push_back(std::move(p));
  }

  // aggregate
  std::vector<TokenEntity> entities;
  if (strategy == AggregationStrategy::None || strategy == AggregationStrategy::Simple) {
    for (const auto& p : pre) {
      const auto idx = argmax(p.scores);
      TokenEntity e;
      e.entity = tu::label_for(config, static_cast<std::int64_t>(idx));
      e.score = p.scores[idx];
      e.index = p.index;
      e.word = p.word;
      e.start = p.start;
      e.end = p.end;
      entities.push_back(std::move(e));
    }
  } else {
    std::vector<const PreEntity*> group;
    for (const auto& p : pre) {
      if (group.empty() || p.is_subword) {
        group.push_back(&p);
      } else {
        entities.push_back(aggregate_word(group, strategy, config, tokens_to_string));
        group = {&p};
      }
    }
    if (!group.empty()) entities.push_back(aggregate_word(group, strategy, config, tokens_to_string));
  }
  if (strategy != AggregationStrategy::None) entities = group_entities(entities, tokens_to_string);

  std::vector<TokenEntity> out;
  for (auto& e : entities) {
    if (std::find(ignore_labels.begin(), ignore_labels.end(), e.entity) == ignore_labels.end()) {
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<TokenEntity> aggregate_overlapping_entities(std::vector<TokenEntity> entities) {
  if (entities.empty()) return entities;
  std::stable_sort(entities.begin(), entities.end(), [](const TokenEntity& a, const TokenEntity& b) {
    return a.start.value_or(0) < b.start.value_or(0);
  });
  std::vector<TokenEntity> out;
  TokenEntity previous = entities.front();
  for (const auto& e : entities) {
    const std::size_t ps = previous.start.value_or(0), pe = previous.end.value_or(0);
    const std::size_t s = e.start.value_or(0), en = e.end.value_or(0);
    if (ps <= s && s < pe) {
      const std::size_t current_length = en - s, previous_length = pe - ps;
      if (current_length > previous_length) {
        previous = e;
      } else if (current_length == previous_length && e.score > previous.score) {
        previous = e;
      }
    } else {
      out.push_back(previous);
      previous = e;
    }
  }
  out.push_back(previous);
  return out;
}

Json to_json(const std::vector<TokenEntity>& entities) {
  Json out = Json::array();
  for (const auto& e : entities) {
    Json j;
    j[e.grouped ? "entity_group" : "entity"] = e.entity;
    j["score"] = e.score;
    if (!e.grouped && e.index) j["index"] = *e.index;
    j["word"] = e.word;
    j["start"] = e.start ? Json(*e.start) : Json(nullptr);
    j["end"] = e.end ? Json(*e.end) : Json(nullptr);
    out.push_back(std::move(j));
  }
  return out;
}

TokenClassificationPipeline::TokenClassificationPipeline(const std::string& model_id_or_path,
                                                         const PipelineOptions& options)
    : model_(models::ORTModelForTokenClassification::from_pretrained(model_id_or_path, options.model)),
      tokenizer_(tu::load_tokenizer(model_, options)),
      subword_prefix_(tu::continuing_subword_prefix(*tokenizer_)) {}

TokenClassificationPipeline::~TokenClassificationPipeline() = default;

std::string TokenClassificationPipeline::tokens_to_string(const std::vector<std::string>& tokens) const {
  if (!subword_prefix_.empty()) return join_wordpiece_tokens(tokens, subword_prefix_);
  return tu::decode_tokens(*tokenizer_, tokens);
}

std::vector<TokenEntity> TokenClassificationPipeline::operator()(const std::string& text,
                                                                 const TokenClassificationOptions& options) const {
  const std::size_t model_max_length = tokenizer_->model_max_length();
  if (options.stride) {
    if (options.aggregation_strategy == AggregationStrategy::None) {
      throw InvalidArgument(
          "token-classification: `stride` was provided to process all the text but `aggregation_strategy=\"none\"` "
          "was selected, which doesn't do any word aggregation. Please select another strategy.");
    }
    if (*options.stride >= model_max_length) {
      throw InvalidArgument("token-classification: `stride` (" + std::to_string(*options.stride) +
                            ") must be less than `tokenizer.model_max_length` (" + std::to_string(model_max_length) +
                            ")");
    }
  }
  tokenizers::TokenizeOptions topts;
  topts.truncation = model_max_length > 0;
  if (options.stride) {
    topts.return_overflowing_tokens = true;
    topts.stride = *options.stride;
  }
  auto encoding = (*tokenizer_)(std::vector<std::string>{text}, topts);
  // With return_overflowing_tokens the tokenizer returns every window as a row (transformers' chunks); a nested
  // `overflowing` list is accepted too.
  std::vector<const tokenizers::Encoding*> chunks;
  for (const auto& e : encoding.encodings) {
    chunks.push_back(&e);
    if (options.stride) {
      for (const auto& o : e.overflowing) chunks.push_back(&o);
    }
    if (!options.stride) break;
  }
  const auto unk = tokenizer_->unk_token_id();
  const TokensToString tts = [this](const std::vector<std::string>& t) { return tokens_to_string(t); };
  std::vector<TokenEntity> all;
  for (const auto* enc : chunks) {
    TokenClassificationChunk chunk;
    chunk.tokens = enc->tokens;
    chunk.input_ids = enc->ids;
    chunk.special_tokens_mask = enc->special_tokens_mask;
    chunk.offsets = std::vector<std::pair<std::size_t, std::size_t>>(enc->offsets.begin(), enc->offsets.end());
    auto out = model_.forward(tu::model_inputs(*enc, model_));
    chunk.logits = out.logits.to_float_vector();
    auto entities = postprocess_token_classification(text, chunk, model_.config(), options.aggregation_strategy,
                                                     options.ignore_labels, subword_prefix_, unk, tts);
    all.insert(all.end(), entities.begin(), entities.end());
  }
  if (chunks.size() > 1) all = aggregate_overlapping_entities(std::move(all));
  return all;
}

Json TokenClassificationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"aggregation_strategy", "ignore_labels", "stride", "grouped_entities", "ignore_subwords"},
               task());
  TokenClassificationOptions opts;
  // Legacy arguments, as transformers maps them.
  const bool grouped = kwarg<bool>(kwargs, "grouped_entities", false);
  const bool ignore_subwords = kwarg<bool>(kwargs, "ignore_subwords", false);
  if (grouped || ignore_subwords) {
    opts.aggregation_strategy = grouped && ignore_subwords
                                    ? AggregationStrategy::First
                                    : (grouped ? AggregationStrategy::Simple : AggregationStrategy::None);
  }
  if (kwargs.is_object() && kwargs.contains("aggregation_strategy") && !kwargs.at("aggregation_strategy").is_null()) {
    opts.aggregation_strategy =
        aggregation_strategy_from_string(kwarg<std::string>(kwargs, "aggregation_strategy", ""));
  }
  if (kwargs.is_object() && kwargs.contains("ignore_labels") && !kwargs.at("ignore_labels").is_null()) {
    opts.ignore_labels = kwarg<std::vector<std::string>>(kwargs, "ignore_labels", {});
  }
  if (kwargs.is_object() && kwargs.contains("stride") && !kwargs.at("stride").is_null()) {
    const auto s = kwarg<std::int64_t>(kwargs, "stride", 0);
    if (s < 0) throw InvalidArgument("token-classification: `stride` must be non-negative, got " + std::to_string(s));
    opts.stride = static_cast<std::size_t>(s);
  }
  auto one = [&](const Json& item) {
    if (!item.is_string()) {
      throw InvalidArgument("token-classification: an input must be a string, got " + item.dump());
    }
    return to_json((*this)(item.get<std::string>(), opts));
  };
  return map_inputs(input, one);
}

ORTFORMERS_REGISTER_PIPELINE("token-classification", make_pipeline<TokenClassificationPipeline>, {"ner"});

}  // namespace ortformers::pipelines
