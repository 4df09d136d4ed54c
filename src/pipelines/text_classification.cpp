#include "ortformers/pipelines/text_classification.hpp"

#include <algorithm>
#include <cctype>

#include "ortformers/core/error.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

ClassificationFunction classification_function_from_string(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "sigmoid") return ClassificationFunction::Sigmoid;
  if (n == "softmax") return ClassificationFunction::Softmax;
  if (n == "none") return ClassificationFunction::None;
  throw InvalidArgument("text-classification: function_to_apply must be one of sigmoid, softmax, none; got '" + name +
                        "'");
}

ClassificationFunction default_classification_function(const config::PretrainedConfig& config) {
  if (config.problem_type() == "multi_label_classification" || config.num_labels() == 1) {
    return ClassificationFunction::Sigmoid;
  }
  if (config.problem_type() == "single_label_classification" || config.num_labels() > 1) {
    return ClassificationFunction::Softmax;
  }
  if (config.has("function_to_apply") && config.json().at("function_to_apply").is_string()) {
    return classification_function_from_string(config.json().at("function_to_apply").get<std::string>());
  }
  return ClassificationFunction::None;
}

std::vector<LabelScore> classification_scores(std::span<const float> logits, const config::PretrainedConfig& config,
                                              ClassificationFunction function) {
  tu::check_num_labels(config, static_cast<std::int64_t>(logits.size()), "text-classification");
  std::vector<double> scores;
  switch (function) {
    case ClassificationFunction::Sigmoid: scores = tu::sigmoid(logits); break;
    case ClassificationFunction::Softmax: scores = tu::softmax(logits); break;
    case ClassificationFunction::None: scores.assign(logits.begin(), logits.end()); break;
  }
  std::vector<LabelScore> out;
  out.reserve(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    out.push_back({tu::label_for(config, static_cast<std::int64_t>(i)), scores[i]});
  }
  return out;
}

std::vector<LabelScore> top_labels(std::vector<LabelScore> scores, std::optional<std::size_t> top_k) {
  std::stable_sort(scores.begin(), scores.end(),
                   [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (top_k && *top_k < scores.size()) scores.resize(*top_k);
  return scores;
}

TextClassificationPipeline::TextClassificationPipeline(const std::string& model_id_or_path,
                                                       const PipelineOptions& options)
    : model_(models::ORTModelForSequenceClassification::from_pretrained(model_id_or_path, options.model)),
      tokenizer_(tu::load_tokenizer(model_, options)) {}

TextClassificationPipeline::~TextClassificationPipeline() = default;

std::vector<float> TextClassificationPipeline::logits(const std::string& text,
                                                      const std::optional<std::string>& text_pair,
                                                      const TextClassificationOptions& options) const {
  tokenizers::TokenizeOptions topts;
  topts.truncation = options.truncation;
  topts.max_length = options.max_length;
  auto encoding = text_pair ? (*tokenizer_)(std::vector<std::string>{text}, std::vector<std::string>{*text_pair}, topts)
                            : (*tokenizer_)(std::vector<std::string>{text}, topts);
  auto out = model_.forward(tu::model_inputs(encoding, model_));
  return tu::tensor_row(out.logits, 0);
}

std::vector<LabelScore> TextClassificationPipeline::operator()(const std::string& text,
                                                               const TextClassificationOptions& options) const {
  const auto l = logits(text, std::nullopt, options);
  const auto fn = options.function_to_apply.value_or(default_classification_function(model_.config()));
  return top_labels(classification_scores(l, model_.config(), fn), options.top_k);
}

std::vector<LabelScore> TextClassificationPipeline::operator()(const std::string& text, const std::string& text_pair,
                                                               const TextClassificationOptions& options) const {
  const auto l = logits(text, text_pair, options);
  const auto fn = options.function_to_apply.value_or(default_classification_function(model_.config()));
  return top_labels(classification_scores(l, model_.config(), fn), options.top_k);
}

namespace {

Json to_json(const std::vector<LabelScore>& scores) {
  Json out = Json::array();
  for (const auto& s : scores) out.push_back({{"label", s.label}, {"score", s.score}});
  return out;
}

}  // namespace

Json TextClassificationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"top_k", "function_to_apply", "truncation", "max_length", "return_all_scores"}, task());
  TextClassificationOptions opts;
  // transformers: top_k given (even None) -> sorted list, cut to top_k; otherwise the legacy shapes.
  const bool legacy = !(kwargs.is_object() && kwargs.contains("top_k"));
  std::optional<std::size_t> top_k = 1;
  if (!legacy) {
    const Json& k = kwargs.at("top_k");
    if (k.is_null()) {
      top_k = std::nullopt;
    } else if (k.is_number_integer() && k.get<std::int64_t>() >= 0) {
      top_k = k.get<std::size_t>();
    } else {
      throw InvalidArgument("text-classification: top_k must be a non-negative integer or null, got " + k.dump());
    }
  } else if (kwargs.is_object() && kwargs.contains("return_all_scores") && !kwargs.at("return_all_scores").is_null()) {
    top_k = kwarg<bool>(kwargs, "return_all_scores", false) ? std::nullopt : std::optional<std::size_t>(1);
  }
  if (kwargs.is_object() && kwargs.contains("function_to_apply") && !kwargs.at("function_to_apply").is_null()) {
    opts.function_to_apply = classification_function_from_string(kwarg<std::string>(kwargs, "function_to_apply", ""));
  }
  opts.truncation = kwarg<bool>(kwargs, "truncation", false);
  if (kwargs.is_object() && kwargs.contains("max_length") && !kwargs.at("max_length").is_null()) {
    opts.max_length = kwarg<std::size_t>(kwargs, "max_length", 0);
  }
  const auto fn = opts.function_to_apply.value_or(default_classification_function(model_.config()));

  auto one = [&](const Json& item) -> Json {
    std::vector<float> l;
    if (item.is_string()) {
      l = logits(item.get<std::string>(), std::nullopt, opts);
    } else if (item.is_object() && item.contains("text")) {
      for (auto it = item.begin(); it != item.end(); ++it) {
        if (it.key() != "text" && it.key() != "text_pair") {
          throw InvalidArgument("text-classification: unknown input key '" + it.key() + "' (expected text, text_pair)");
        }
      }
      if (!item.at("text").is_string()) throw InvalidArgument("text-classification: `text` must be a string");
      std::optional<std::string> pair;
      if (item.contains("text_pair") && !item.at("text_pair").is_null()) {
        if (!item.at("text_pair").is_string()) {
          throw InvalidArgument("text-classification: `text_pair` must be a string");
        }
        pair = item.at("text_pair").get<std::string>();
      }
      l = logits(item.at("text").get<std::string>(), pair, opts);
    } else {
      throw InvalidArgument(
          "text-classification: an input must be a string or an object {\"text\": ..., \"text_pair\": ...}, got " +
          item.dump());
    }
    auto scores = classification_scores(l, model_.config(), fn);
    if (legacy && top_k == std::optional<std::size_t>(1)) {
      const auto best = top_labels(scores, 1);
      return Json{{"label", best.at(0).label}, {"score", best.at(0).score}};
    }
    return legacy ? to_json(scores) : to_json(top_labels(std::move(scores), top_k));
  };

  if (input.is_array()) {
    Json out = Json::array();
    for (const auto& item : input) out.push_back(one(item));
    return out;
  }
  Json result = one(input);
  // transformers wraps the result of a single string input in a list in the legacy (no top_k) mode.
  if (input.is_string() && legacy) return Json::array({result});
  return result;
}

ORTFORMERS_REGISTER_PIPELINE("text-classification", make_pipeline<TextClassificationPipeline>, {"sentiment-analysis"});

}  // namespace ortformers::pipelines
