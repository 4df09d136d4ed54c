#include "ortformers/pipelines/zero_shot_classification.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

std::optional<std::int64_t> find_entailment_id(const config::PretrainedConfig& config) {
  for (const auto& [label, id] : config.label2id()) {
    std::string lower = label;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.rfind("entail", 0) == 0) return id;
  }
  return std::nullopt;
}

std::string format_hypothesis(const std::string& tpl, const std::string& label) {
  std::string out;
  bool formatted = false;
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    const char c = tpl[i];
    if (c == '{' && i + 1 < tpl.size() && tpl[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < tpl.size() && tpl[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const auto close = tpl.find('}', i);
      const std::string field = close == std::string::npos ? "?" : tpl.substr(i + 1, close - i - 1);
      if (field != "" && field != "0") {
        throw InvalidArgument("zero-shot-classification: hypothesis_template \"" + tpl +
                              "\" has a replacement field {" + field + "}; use {} where the label should go");
      }
      out += label;
      formatted = true;
      i = close;
    } else if (c == '}') {
      throw InvalidArgument("zero-shot-classification: hypothesis_template \"" + tpl +
                            "\" has a single '}' (Python's format rejects it)");
    } else {
      out += c;
    }
  }
  if (!formatted) {
    throw InvalidArgument("zero-shot-classification: The provided hypothesis_template \"" + tpl +
                          "\" was not able to be formatted with the target labels. Make sure the passed template "
                          "includes formatting syntax such as {} where the label should go.");
  }
  return out;
}

std::vector<double> zero_shot_scores(const std::vector<std::vector<float>>& logits, std::int64_t entailment_id,
                                     bool multi_label) {
  const std::size_t n = logits.size();
  std::vector<double> scores(n);
  if (n == 0) return scores;
  const auto width = static_cast<std::int64_t>(logits.front().size());
  if (entailment_id < 0 || entailment_id >= width) {
    throw InvalidArgument("zero-shot-classification: entailment id " + std::to_string(entailment_id) +
                          " is outside the model's " + std::to_string(width) + " NLI labels");
  }
  const auto ent = static_cast<std::size_t>(entailment_id);
  if (multi_label || n == 1) {
    const std::size_t contradiction = entailment_id == 0 ? static_cast<std::size_t>(width - 1) : 0;  // -1 if 0 else 0
    for (std::size_t i = 0; i < n; ++i) {
      const double c = logits[i][contradiction], e = logits[i][ent];
      const double m = std::max(c, e);
      scores[i] = std::exp(e - m) / (std::exp(c - m) + std::exp(e - m));
    }
  } else {
    std::vector<float> entail(n);
    for (std::size_t i = 0; i < n; ++i) entail[i] = logits[i][ent];
    scores = tu::softmax(entail);
  }
  return scores;
}

ZeroShotClassificationResult rank_zero_shot(const std::string& sequence, const std::vector<std::string>& labels,
                                            const std::vector<double>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  std::reverse(order.begin(), order.end());
  ZeroShotClassificationResult r;
  r.sequence = sequence;
  for (auto i : order) {
    r.labels.push_back(labels[i]);
    r.scores.push_back(scores[i]);
  }
  return r;
}

std::vector<std::string> split_candidate_labels(const std::string& labels) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= labels.size()) {
    const auto comma = labels.find(',', pos);
    std::string part = labels.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const auto b = part.find_first_not_of(" \t\n\r\f\v");
    if (b != std::string::npos) {
      const auto e = part.find_last_not_of(" \t\n\r\f\v");
      out.push_back(part.substr(b, e - b + 1));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

ZeroShotClassificationPipeline::ZeroShotClassificationPipeline(const std::string& model_id_or_path,
                                                               const PipelineOptions& options)
    : model_(models::ORTModelForSequenceClassification::from_pretrained(model_id_or_path, options.model)),
      tokenizer_(tu::load_tokenizer(model_, options)) {}

ZeroShotClassificationPipeline::~ZeroShotClassificationPipeline() = default;

std::vector<std::vector<float>> ZeroShotClassificationPipeline::pair_logits(
    const std::string& sequence, const ZeroShotClassificationOptions& options) const {
  if (options.candidate_labels.empty()) {
    throw InvalidArgument("zero-shot-classification: You must include at least one label and at least one sequence.");
  }
  std::vector<std::vector<float>> out;
  for (const auto& label : options.candidate_labels) {
    const std::string hypothesis = format_hypothesis(options.hypothesis_template, label);
    tokenizers::TokenizeOptions topts;
    topts.truncation = true;  // transformers: truncation only_first at model_max_length
    topts.truncation_strategy = tokenizers::TruncationStrategy::OnlyFirst;
    auto enc = (*tokenizer_)(std::vector<std::string>{sequence}, std::vector<std::string>{hypothesis}, topts);
    auto res = model_.forward(tu::model_inputs(enc, model_));
    out.push_back(tu::tensor_row(res.logits, 0));
  }
  return out;
}

ZeroShotClassificationResult ZeroShotClassificationPipeline::operator()(
    const std::string& sequence, const ZeroShotClassificationOptions& options) const {
  const auto entailment = find_entailment_id(model_.config());
  if (!entailment) {
    throw InvalidArgument(model_.config().source() +
                          ": no label starting with 'entail' in label2id/id2label; zero-shot classification needs the "
                          "NLI model's entailment label (transformers: \"Failed to determine 'entailment' label id "
                          "from the label2id mapping in the model config\")");
  }
  const auto logits = pair_logits(sequence, options);
  for (const auto& l : logits) tu::check_num_labels(model_.config(), static_cast<std::int64_t>(l.size()), task());
  return rank_zero_shot(sequence, options.candidate_labels, zero_shot_scores(logits, *entailment, options.multi_label));
}

Json ZeroShotClassificationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"candidate_labels", "hypothesis_template", "multi_label", "sequences"}, task());
  Json in = input;
  Json kw = kwargs.is_object() ? kwargs : Json::object();
  if (in.is_object()) {  // {"sequences": ..., "candidate_labels": ..., ...}: Python argument names in the input
    for (auto it = in.begin(); it != in.end(); ++it) {
      if (it.key() != "sequences" && it.key() != "candidate_labels" && it.key() != "hypothesis_template" &&
          it.key() != "multi_label") {
        throw InvalidArgument("zero-shot-classification: unknown input key '" + it.key() + "'");
      }
      if (it.key() != "sequences") kw[it.key()] = it.value();
    }
    in = input.contains("sequences") ? input.at("sequences") : Json();
  }
  if (in.is_null() && kw.contains("sequences")) in = kw.at("sequences");
  ZeroShotClassificationOptions opts;
  if (kw.contains("candidate_labels") && !kw.at("candidate_labels").is_null()) {
    const Json& l = kw.at("candidate_labels");
    if (l.is_string()) {
      opts.candidate_labels = split_candidate_labels(l.get<std::string>());
    } else {
      opts.candidate_labels = kwarg<std::vector<std::string>>(kw, "candidate_labels", {});
    }
  }
  opts.hypothesis_template = kwarg<std::string>(kw, "hypothesis_template", opts.hypothesis_template);
  opts.multi_label = kwarg<bool>(kw, "multi_label", false);
  auto one = [&](const Json& item) -> Json {
    if (!item.is_string()) {
      throw InvalidArgument("zero-shot-classification: a sequence must be a string, got " + item.dump());
    }
    const auto r = (*this)(item.get<std::string>(), opts);
    return Json{{"sequence", r.sequence}, {"labels", r.labels}, {"scores", r.scores}};
  };
  if (in.is_array()) {
    if (in.empty()) {
      throw InvalidArgument("zero-shot-classification: You must include at least one label and at least one sequence.");
    }
    Json out = Json::array();
    for (const auto& item : in) out.push_back(one(item));
    return out;
  }
  return one(in);
}

ORTFORMERS_REGISTER_PIPELINE("zero-shot-classification", make_pipeline<ZeroShotClassificationPipeline>);

}  // namespace ortformers::pipelines
