#include "ortformers/pipelines/text2text_generation.hpp"

#include <algorithm>
#include <iostream>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;

namespace {

// The pipeline's own keyword arguments (4.31 _sanitize_parameters + Pipeline.__call__'s batch_size / num_workers);
// every other key is a generate() kwarg.
const std::vector<std::string>& pipeline_keys() {
  static const std::vector<std::string> keys = {
      "return_tensors", "return_text",   "return_type", "clean_up_tokenization_spaces",
      "truncation",     "stop_sequence", "batch_size",  "num_workers",
      "src_lang",       "tgt_lang"};
  return keys;
}

std::string python_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", '" : "'") + items[i] + "'";
  return s + "]";
}

bool truthy(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get<std::string>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

std::int64_t json_int(const Json& j, const char* key, std::int64_t fallback) {
  return j.contains(key) && j.at(key).is_number_integer() ? j.at(key).get<std::int64_t>() : fallback;
}

}  // namespace

Json Text2TextOutput::to_json(const std::string& return_name) const {
  if (token_ids) return {{return_name + "_token_ids", *token_ids}};
  return {{return_name + "_text", text.value_or("")}};
}

Text2TextGenerationPipeline::Text2TextGenerationPipeline(const std::string& model_id_or_path,
                                                         const PipelineOptions& options)
    : Text2TextGenerationPipeline(model_id_or_path, options, "text2text-generation", "generated") {}

Text2TextGenerationPipeline::Text2TextGenerationPipeline(const std::string& model_id_or_path,
                                                         const PipelineOptions& options,
                                                         const std::string& default_task,
                                                         const std::string& return_name)
    : model_([&] {
        models::Seq2SeqLMOptions o;
        o.base = options.model;
        return models::ORTModelForSeq2SeqLM::from_pretrained(model_id_or_path, o);
      }()),
      tokenizer_(tu::load_tokenizer(model_, options)),
      generation_config_(generation::GenerationConfig::from_pretrained(model_.model_dir())),
      return_name_(return_name) {
  apply_task(options.task.empty() ? default_task : options.task);
}

Text2TextGenerationPipeline::Text2TextGenerationPipeline(models::ORTModelForSeq2SeqLM model,
                                                         tokenizers::PreTrainedTokenizer tokenizer,
                                                         const std::string& task)
    : model_(std::move(model)),
      tokenizer_(std::make_unique<tokenizers::PreTrainedTokenizer>(std::move(tokenizer))),
      generation_config_(generation::GenerationConfig::from_pretrained(model_.model_dir())) {
  apply_task(task);
}

Text2TextGenerationPipeline::~Text2TextGenerationPipeline() = default;

void Text2TextGenerationPipeline::apply_task(const std::string& task) {
  task_ = task;
  const Json& cfg = model_.config().json();
  // model.config's own prefix / min_length / max_length (PretrainedConfig defaults None / 0 / 20).
  if (cfg.contains("prefix") && cfg.at("prefix").is_string()) prefix_ = cfg.at("prefix").get<std::string>();
  config_min_length_ = json_int(cfg, "min_length", 0);
  config_max_length_ = json_int(cfg, "max_length", 20);
  // 4.31 Pipeline.__init__: task_specific_params[task] update the model config and the generation config.
  if (cfg.contains("task_specific_params") && cfg.at("task_specific_params").is_object() &&
      cfg.at("task_specific_params").contains(task_) && cfg.at("task_specific_params").at(task_).is_object()) {
    const Json& params = cfg.at("task_specific_params").at(task_);
    if (params.contains("prefix") && params.at("prefix").is_string()) prefix_ = params.at("prefix").get<std::string>();
    config_min_length_ = json_int(params, "min_length", config_min_length_);
    config_max_length_ = json_int(params, "max_length", config_max_length_);
    generation_config_.update(params);  // unknown keys (prefix) are ignored
  }
}

Text2TextGenerationOptions Text2TextGenerationPipeline::parse_kwargs(const Json& kwargs) const {
  if (!kwargs.is_null() && !kwargs.is_object())
    throw InvalidArgument(task_ + ": keyword arguments must be a JSON object, got " + kwargs.dump());
  Text2TextGenerationOptions o;
  const Json k = kwargs.is_null() ? Json::object() : kwargs;
  auto has = [&](const char* key) { return k.contains(key) && !k.at(key).is_null(); };
  for (const auto& [key, value] : k.items()) {
    if (std::find(pipeline_keys().begin(), pipeline_keys().end(), key) == pipeline_keys().end())
      o.generate_kwargs[key] = value;
  }
  if (has("src_lang") || has("tgt_lang")) {
    throw InvalidArgument(task_ + ": `src_lang` / `tgt_lang` are arguments of the translation pipeline");
  }
  if (has("return_type")) {
    const Json& t = k.at("return_type");
    if (t == Json(0) || t == Json("TENSORS")) {
      o.return_tensors = true;
    } else if (t == Json(1) || t == Json("TEXT")) {
      o.return_tensors = false;
    } else {
      throw InvalidArgument(task_ + ": `return_type` must be 0 (TENSORS) or 1 (TEXT), got " + t.dump());
    }
  } else if (has("return_tensors")) {
    o.return_tensors = truthy(k.at("return_tensors"));
  }
  if (has("clean_up_tokenization_spaces"))
    o.clean_up_tokenization_spaces = truthy(k.at("clean_up_tokenization_spaces"));
  if (has("truncation")) {
    const Json& t = k.at("truncation");
    if (t.is_boolean()) {
      o.truncation = t.get<bool>();
    } else if (t == Json("longest_first") || t == Json("only_first")) {
      o.truncation = true;
    } else if (t == Json("do_not_truncate")) {
      o.truncation = false;
    } else {
      throw InvalidArgument(t.dump() +
                            " is not a valid TruncationStrategy, please select one of ['only_first', 'only_second', "
                            "'longest_first', 'do_not_truncate'] (only_second needs a text pair)");
    }
  }
  if (has("stop_sequence")) {
    if (!k.at("stop_sequence").is_string())
      throw InvalidArgument(task_ + ": `stop_sequence` must be a string, got " + k.at("stop_sequence").dump());
    o.stop_sequence = k.at("stop_sequence").get<std::string>();
  }
  if (has("batch_size")) {
    const Json& b = k.at("batch_size");
    if (!b.is_number_integer() || b.get<std::int64_t>() < 1)
      throw InvalidArgument(task_ + ": `batch_size` must be a positive integer, got " + b.dump());
    o.batch_size = b.get<std::size_t>();
  }
  return o;
}

void Text2TextGenerationPipeline::check_inputs(std::int64_t, std::int64_t, std::int64_t) const {}

std::vector<std::vector<Text2TextOutput>> Text2TextGenerationPipeline::operator()(
    const std::vector<std::string>& texts, const Text2TextGenerationOptions& options) const {
  warnings_.clear();
  Json kwargs = options.generate_kwargs.is_object() ? options.generate_kwargs : Json::object();
  if (options.stop_sequence) {
    tokenizers::TokenizeOptions topts;
    topts.add_special_tokens = false;
    const auto ids = tokenizer_->encode(*options.stop_sequence, topts).ids;
    if (ids.empty()) throw InvalidArgument(task_ + ": `stop_sequence` has no tokens");
    if (ids.size() > 1)
      warnings_.push_back(
          "Stopping on a multiple token sequence is not yet supported on transformers. The first token of the stop "
          "sequence will be used as the stop sequence string in the interim.");
    kwargs["eos_token_id"] = ids.front();
  }
  generation::GenerationConfig config = generation_config_;
  if (kwargs.contains("generation_config")) {
    const Json gc = kwargs.at("generation_config");
    kwargs.erase("generation_config");
    if (!gc.is_object())
      throw InvalidArgument(task_ + ": `generation_config` must be an object of GenerationConfig fields");
    config = generation::GenerationConfig::from_json(gc);
  }
  // 4.31 _forward: min_length / max_length from the model config unless given.
  if (!kwargs.contains("min_length")) kwargs["min_length"] = config_min_length_;
  if (!kwargs.contains("max_length")) kwargs["max_length"] = config_max_length_;
  const Json unused = config.update(kwargs);
  if (!unused.empty()) {
    std::vector<std::string> names;
    for (const auto& [key, value] : unused.items()) names.push_back(key);
    throw InvalidArgument("The following `model_kwargs` are not used by the model: " + python_list(names) +
                          " (note: typos in the generate arguments will also show up in this list)");
  }

  tokenizers::TokenizeOptions topts;
  topts.truncation = options.truncation;
  std::vector<std::vector<std::int64_t>> encoded;
  encoded.reserve(texts.size());
  for (const auto& t : texts) encoded.push_back(tokenizer_->encode(prefix_ + t, topts).ids);

  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_size);
  std::int64_t pad_id = 0;
  if (batch_size > 1 && texts.size() > 1) {
    if (auto p = tokenizer_->pad_token_id()) {
      pad_id = *p;
    } else {
      throw InvalidArgument(
          "Pipeline with tokenizer without pad_token cannot do batching. You can try to set it with "
          "`pipe.tokenizer.pad_token_id = model.config.eos_token_id`.");
    }
  }
  const bool pad_left = tokenizer_->padding_side() == tokenizers::PaddingDirection::Left;
  generation::GenerateOptions gopts;
  gopts.warnings = &warnings_;

  std::vector<std::vector<Text2TextOutput>> results;
  results.reserve(texts.size());
  for (std::size_t start = 0; start < texts.size(); start += batch_size) {
    const std::size_t end = std::min(texts.size(), start + batch_size);
    const auto in_b = static_cast<std::int64_t>(end - start);
    std::size_t longest = 0;
    for (std::size_t i = start; i < end; ++i) longest = std::max(longest, encoded[i].size());
    std::vector<std::int64_t> ids, mask;
    for (std::size_t i = start; i < end; ++i) {
      const auto& e = encoded[i];
      const std::size_t pad = longest - e.size();
      if (pad_left) ids.insert(ids.end(), pad, pad_id), mask.insert(mask.end(), pad, 0);
      ids.insert(ids.end(), e.begin(), e.end());
      mask.insert(mask.end(), e.size(), 1);
      if (!pad_left) ids.insert(ids.end(), pad, pad_id), mask.insert(mask.end(), pad, 0);
    }
    if (longest == 0) throw InvalidArgument(task_ + ": the input has no tokens");
    check_inputs(static_cast<std::int64_t>(longest), config.min_length, config.max_length);
    const Shape shape{in_b, static_cast<std::int64_t>(longest)};
    const TensorMap inputs{{"input_ids", Tensor::from_vector(std::move(ids), shape)},
                           {"attention_mask", Tensor::from_vector(std::move(mask), shape)}};
    const auto out = generation::generate(model_, inputs, config, gopts);
    const Tensor& seqs = out.sequences;
    if (seqs.rank() != 2 || seqs.dim(0) % in_b != 0)
      throw RuntimeError(task_ + ": generate() returned sequences of shape " + shape_to_string(seqs.shape()) + " for " +
                         std::to_string(in_b) + " inputs");
    const std::int64_t per_input = seqs.dim(0) / in_b, len = seqs.dim(1);
    const auto all = seqs.to(DType::Int64).to_vector<std::int64_t>();
    for (std::int64_t b = 0; b < in_b; ++b) {
      std::vector<Text2TextOutput> records;
      for (std::int64_t r = 0; r < per_input; ++r) {
        const auto* row = all.data() + (b * per_input + r) * len;
        std::vector<std::int64_t> sequence(row, row + len);
        Text2TextOutput o;
        if (options.return_tensors) {
          o.token_ids = std::move(sequence);
        } else {
          o.text = tokenizer_->decode(sequence, /*skip_special_tokens=*/true, options.clean_up_tokenization_spaces);
        }
        records.push_back(std::move(o));
      }
      results.push_back(std::move(records));
    }
  }
  return results;
}

std::vector<Text2TextOutput> Text2TextGenerationPipeline::operator()(const std::string& text,
                                                                     const Text2TextGenerationOptions& options) const {
  return (*this)(std::vector<std::string>{text}, options).at(0);
}

Json Text2TextGenerationPipeline::call(const Json& input, const Json& kwargs) {
  return call_batch({input}, kwargs).at(0);
}

std::vector<Json> Text2TextGenerationPipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  const Text2TextGenerationOptions options = parse_kwargs(kwargs);
  std::vector<std::string> texts;
  std::vector<std::pair<std::size_t, bool>> spans;  // per input: item count, list-ness
  for (const auto& in : inputs) {
    if (in.is_string()) {
      texts.push_back(in.get<std::string>());
      spans.emplace_back(1, false);
    } else if (in.is_array() && !in.empty() &&
               std::all_of(in.begin(), in.end(), [](const Json& x) { return x.is_string(); })) {
      for (const auto& x : in) texts.push_back(x.get<std::string>());
      spans.emplace_back(in.size(), true);
    } else {
      throw InvalidArgument(" `args[0]`: " + in.dump() +
                            " have the wrong format. The should be either of type `str` or type `list`");
    }
  }
  const auto results = (*this)(texts, options);
  auto records_json = [&](const std::vector<Text2TextOutput>& records) {
    Json out = Json::array();
    for (const auto& r : records) out.push_back(r.to_json(return_name_));
    return out;
  };
  std::vector<Json> out;
  std::size_t at = 0;
  for (const auto& [count, is_list] : spans) {
    if (!is_list) {
      out.push_back(records_json(results.at(at++)));
      continue;
    }
    // 4.31 __call__: a list of strings whose results are single records gives a flat list.
    bool flat = true;
    for (std::size_t i = 0; i < count; ++i) flat = flat && results.at(at + i).size() == 1;
    Json list = Json::array();
    for (std::size_t i = 0; i < count; ++i) {
      Json records = records_json(results.at(at++));
      list.push_back(flat ? records.at(0) : records);
    }
    out.push_back(std::move(list));
  }
  for (const auto& w : warnings_)
    if (printed_warnings_.insert(w).second) std::cerr << w << "\n";
  return out;
}

ORTFORMERS_REGISTER_PIPELINE("text2text-generation", make_pipeline<Text2TextGenerationPipeline>);

}  // namespace ortformers::pipelines
