#include "ortformers/pipelines/text_generation.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "pipelines/text_utils.hpp"

namespace ortformers::pipelines {

namespace tu = text_utils;
namespace fs = std::filesystem;

namespace {

// The pipeline's own keyword arguments (4.31 _sanitize_parameters + Pipeline.__call__'s batch_size / num_workers);
// every other key is a generate() kwarg.
const std::vector<std::string>& pipeline_keys() {
  static const std::vector<std::string> keys = {
      "return_full_text", "return_tensors",         "return_text",   "return_type", "clean_up_tokenization_spaces",
      "prefix",           "handle_long_generation", "stop_sequence", "batch_size",  "num_workers"};
  return keys;
}

// Python's repr of a list of strings: ['a', 'b'].
std::string python_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", '" : "'") + items[i] + "'";
  return s + "]";
}

// Python truthiness of a JSON kwarg (return_full_text=1 is accepted as Python accepts it).
bool truthy(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get<std::string>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return false;
}

// config.json's max_length (PretrainedConfig default 20): what 4.31 reads as self.model.config.max_length.
std::int64_t config_max_length(const models::ORTModel& model) {
  const Json& j = model.config().json();
  if (j.contains("max_length") && j.at("max_length").is_number_integer()) return j.at("max_length").get<std::int64_t>();
  return 20;
}

void require_message_list(const Json& messages) {
  if (!messages.is_array() || messages.empty())
    throw InvalidArgument("text-generation: a conversation must be a non-empty list of {role, content} messages");
  for (const auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m.at("role").is_string())
      throw InvalidArgument(
          "text-generation: every message of a conversation must be an object with a string "
          "'role' (and 'content'), got " +
          m.dump());
  }
}

// tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False).
std::string render_chat(const tokenizers::PreTrainedTokenizer& tokenizer, const Json& messages) {
  tokenizers::ChatTemplateOptions options;
  options.add_generation_prompt = true;
  return tokenizer.apply_chat_template(chat_template::OrderedJson::parse(messages.dump()), options).text;
}

}  // namespace

bool is_conversation(const Json& input) {
  return input.is_array() && !input.empty() && input.front().is_object();
}

Json GeneratedOutput::to_json() const {
  if (generated_token_ids) return {{"generated_token_ids", *generated_token_ids}};
  if (generated_messages) return {{"generated_text", *generated_messages}};
  return {{"generated_text", generated_text.value_or("")}};
}

TextGenerationPipeline::TextGenerationPipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : model_([&] {
        models::CausalLMOptions o;
        o.base = options.model;
        return models::ORTModelForCausalLM::from_pretrained(model_id_or_path, o);
      }()),
      tokenizer_(tu::load_tokenizer(model_, options)),
      generation_config_(generation::GenerationConfig::from_pretrained(model_.model_dir())) {
  // 4.31 Pipeline.__init__: task_specific_params["text-generation"] update the model config; generate() then rebuilds
  // its generation config from the model config when that config was derived from it (no generation_config.json).
  const Json& cfg = model_.config().json();
  const bool derived = !fs::exists(model_.model_dir() / "generation_config.json");
  if (derived && cfg.contains("task_specific_params") && cfg.at("task_specific_params").is_object() &&
      cfg.at("task_specific_params").contains("text-generation")) {
    generation_config_.update(cfg.at("task_specific_params").at("text-generation"));
  }
}

TextGenerationPipeline::TextGenerationPipeline(models::ORTModelForCausalLM model,
                                               tokenizers::PreTrainedTokenizer tokenizer)
    : model_(std::move(model)),
      tokenizer_(std::make_unique<tokenizers::PreTrainedTokenizer>(std::move(tokenizer))),
      generation_config_(generation::GenerationConfig::from_pretrained(model_.model_dir())) {}

TextGenerationPipeline::~TextGenerationPipeline() = default;

TextGenerationOptions TextGenerationPipeline::parse_kwargs(const Json& kwargs) const {
  if (!kwargs.is_null() && !kwargs.is_object())
    throw InvalidArgument("text-generation: keyword arguments must be a JSON object, got " + kwargs.dump());
  TextGenerationOptions o;
  const Json k = kwargs.is_null() ? Json::object() : kwargs;
  auto has = [&](const char* key) { return k.contains(key) && !k.at(key).is_null(); };
  for (const auto& [key, value] : k.items()) {
    if (std::find(pipeline_keys().begin(), pipeline_keys().end(), key) == pipeline_keys().end())
      o.generate_kwargs[key] = value;
  }
  if (has("prefix")) {
    if (!k.at("prefix").is_string())
      throw InvalidArgument("text-generation: `prefix` must be a string, got " + k.at("prefix").dump());
    o.prefix = k.at("prefix").get<std::string>();
  }
  if (has("handle_long_generation")) {
    const Json& h = k.at("handle_long_generation");
    const std::string v = h.is_string() ? h.get<std::string>() : h.dump();
    if (v != "hole")
      throw InvalidArgument(v + " is not a valid value for `handle_long_generation` parameter expected [None, 'hole']");
    o.handle_long_generation = v;
  }
  // Return type, with 4.31's exclusivity rules.
  std::optional<ReturnType> type;
  if (has("return_type")) {
    const Json& t = k.at("return_type");
    static const std::vector<std::string> names = {"TENSORS", "NEW_TEXT", "FULL_TEXT"};
    if (t.is_number_integer() && t.get<std::int64_t>() >= 0 && t.get<std::int64_t>() <= 2) {
      type = static_cast<ReturnType>(t.get<std::int64_t>());
    } else if (t.is_string() && std::find(names.begin(), names.end(), t.get<std::string>()) != names.end()) {
      type = static_cast<ReturnType>(std::find(names.begin(), names.end(), t.get<std::string>()) - names.begin());
    } else {
      throw InvalidArgument("text-generation: `return_type` must be 0 (TENSORS), 1 (NEW_TEXT) or 2 (FULL_TEXT), got " +
                            t.dump());
    }
  }
  if (has("return_full_text") && !type) {
    if (has("return_text")) throw InvalidArgument("`return_text` is mutually exclusive with `return_full_text`");
    if (has("return_tensors")) throw InvalidArgument("`return_full_text` is mutually exclusive with `return_tensors`");
    type = truthy(k.at("return_full_text")) ? ReturnType::FullText : ReturnType::NewText;
  }
  if (has("return_tensors") && !type) {
    if (has("return_text")) throw InvalidArgument("`return_text` is mutually exclusive with `return_tensors`");
    type = ReturnType::Tensors;
  }
  if (type) o.return_type = *type;
  if (has("clean_up_tokenization_spaces"))
    o.clean_up_tokenization_spaces = truthy(k.at("clean_up_tokenization_spaces"));
  if (has("stop_sequence")) {
    if (!k.at("stop_sequence").is_string())
      throw InvalidArgument("text-generation: `stop_sequence` must be a string, got " + k.at("stop_sequence").dump());
    o.stop_sequence = k.at("stop_sequence").get<std::string>();
  }
  if (has("batch_size")) {
    const Json& b = k.at("batch_size");
    if (!b.is_number_integer() || b.get<std::int64_t>() < 1)
      throw InvalidArgument("text-generation: `batch_size` must be a positive integer, got " + b.dump());
    o.batch_size = b.get<std::size_t>();
  }
  return o;
}

TextGenerationInputs TextGenerationPipeline::preprocess(const Json& input, const TextGenerationOptions& options) const {
  TextGenerationInputs out;
  tokenizers::TokenizeOptions topts;
  topts.add_special_tokens = false;  // 4.31's preprocess (and apply_chat_template's tokenization)
  std::string text;
  if (is_conversation(input)) {
    require_message_list(input);
    out.messages = input;
    // apply_chat_template(messages, add_generation_prompt=True, tokenize=False); the pipeline's prefix does not apply.
    text = render_chat(*tokenizer_, input);
  } else if (input.is_string()) {
    out.prompt_text = input.get<std::string>();
    std::string prefix = options.prefix.value_or("");
    if (!options.prefix) {
      const Json& cfg = model_.config().json();
      if (cfg.contains("prefix") && cfg.at("prefix").is_string()) prefix = cfg.at("prefix").get<std::string>();
    }
    text = prefix + out.prompt_text;
  } else {
    throw InvalidArgument(
        "text-generation: an input must be a string or a conversation (a list of {role, content} messages), got " +
        input.dump());
  }
  out.input_ids = tokenizer_->encode(text, topts).ids;

  if (options.handle_long_generation == "hole") {
    const auto cur_len = static_cast<std::int64_t>(out.input_ids.size());
    const Json& g = options.generate_kwargs;
    std::int64_t new_tokens = 0;
    if (g.contains("max_new_tokens") && g.at("max_new_tokens").is_number_integer()) {
      new_tokens = g.at("max_new_tokens").get<std::int64_t>();
    } else {
      const std::int64_t max_length = g.contains("max_length") && g.at("max_length").is_number_integer()
                                          ? g.at("max_length").get<std::int64_t>()
                                          : config_max_length(model_);
      new_tokens = max_length - cur_len;
      if (new_tokens < 0) throw InvalidArgument("We cannot infer how many new tokens are expected");
    }
    const auto model_max = tokenizer_->model_max_length();
    if (model_max != SIZE_MAX && cur_len + new_tokens > static_cast<std::int64_t>(model_max)) {
      const std::int64_t keep_length = static_cast<std::int64_t>(model_max) - new_tokens;
      if (keep_length <= 0)
        throw InvalidArgument(
            "We cannot use `hole` to handle this generation the number of desired tokens exceeds the models max "
            "length");
      out.input_ids.erase(out.input_ids.begin(), out.input_ids.end() - keep_length);
    }
  }
  return out;
}

std::vector<std::vector<GeneratedOutput>> TextGenerationPipeline::run_prepared(
    const std::vector<TextGenerationInputs>& prepared, const TextGenerationOptions& options) const {
  warnings_.clear();
  // Generate kwargs of this call: the prefix's length moves max_length / min_length (4.31 _forward), a stop
  // sequence becomes eos_token_id.
  Json kwargs = options.generate_kwargs.is_object() ? options.generate_kwargs : Json::object();
  std::string prefix = options.prefix.value_or("");
  if (!options.prefix) {
    const Json& cfg = model_.config().json();
    if (cfg.contains("prefix") && cfg.at("prefix").is_string()) prefix = cfg.at("prefix").get<std::string>();
  }
  if (!prefix.empty()) {
    tokenizers::TokenizeOptions topts;
    topts.add_special_tokens = false;
    const auto prefix_length = static_cast<std::int64_t>(tokenizer_->encode(prefix, topts).ids.size());
    if (prefix_length > 0) {
      if (!kwargs.contains("max_new_tokens")) {
        std::int64_t max_length = config_max_length(model_);
        if (kwargs.contains("max_length") && kwargs.at("max_length").is_number_integer() &&
            kwargs.at("max_length").get<std::int64_t>() != 0)
          max_length = kwargs.at("max_length").get<std::int64_t>();
        kwargs["max_length"] = max_length + prefix_length;
      }
      if (!kwargs.contains("min_new_tokens") && kwargs.contains("min_length") &&
          kwargs.at("min_length").is_number_integer())
        kwargs["min_length"] = kwargs.at("min_length").get<std::int64_t>() + prefix_length;
    }
  }
  if (options.stop_sequence) {
    tokenizers::TokenizeOptions topts;
    topts.add_special_tokens = false;
    const auto ids = tokenizer_->encode(*options.stop_sequence, topts).ids;
    if (ids.empty()) throw InvalidArgument("text-generation: `stop_sequence` has no tokens");
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
      throw InvalidArgument("text-generation: `generation_config` must be an object of GenerationConfig fields");
    config = generation::GenerationConfig::from_json(gc);
  }
  const Json unused = config.update(kwargs);
  if (!unused.empty()) {
    std::vector<std::string> names;
    for (const auto& [key, value] : unused.items()) names.push_back(key);
    throw InvalidArgument("The following `model_kwargs` are not used by the model: " + python_list(names) +
                          " (note: typos in the generate arguments will also show up in this list)");
  }

  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_size);
  std::int64_t pad_id = 0;
  if (batch_size > 1) {
    // 4.31 pad_collate_fn: the tokenizer's pad token; without one, the generation config's pad id.
    if (auto p = tokenizer_->pad_token_id()) {
      pad_id = *p;
    } else if (config.pad_token_id) {
      pad_id = *config.pad_token_id;
    } else {
      throw InvalidArgument(
          "Pipeline with tokenizer without pad_token cannot do batching. You can try to set it with "
          "`pipe.tokenizer.pad_token_id = model.config.eos_token_id`.");
    }
  }
  const bool pad_left = tokenizer_->padding_side() == tokenizers::PaddingDirection::Left;

  generation::GenerateOptions gopts;
  gopts.streamer = options.streamer;
  gopts.warnings = &warnings_;

  std::vector<std::vector<GeneratedOutput>> results;
  results.reserve(prepared.size());
  for (std::size_t start = 0; start < prepared.size(); start += batch_size) {
    const std::size_t end = std::min(prepared.size(), start + batch_size);
    const auto in_b = static_cast<std::int64_t>(end - start);
    std::size_t longest = 0;
    for (std::size_t i = start; i < end; ++i) longest = std::max(longest, prepared[i].input_ids.size());
    // Padded rows (what postprocess decodes as the prompt, as 4.31 decodes the collated input_ids row).
    std::vector<std::vector<std::int64_t>> rows;
    std::vector<std::int64_t> ids, mask;
    for (std::size_t i = start; i < end; ++i) {
      const auto& p = prepared[i].input_ids;
      const std::size_t pad = longest - p.size();
      std::vector<std::int64_t> row, row_mask;
      if (pad_left) row.insert(row.end(), pad, pad_id), row_mask.insert(row_mask.end(), pad, 0);
      row.insert(row.end(), p.begin(), p.end());
      row_mask.insert(row_mask.end(), p.size(), 1);
      if (!pad_left) row.insert(row.end(), pad, pad_id), row_mask.insert(row_mask.end(), pad, 0);
      ids.insert(ids.end(), row.begin(), row.end());
      mask.insert(mask.end(), row_mask.begin(), row_mask.end());
      rows.push_back(std::move(row));
    }
    const Shape shape{in_b, static_cast<std::int64_t>(longest)};
    const auto out = generation::generate(model_, Tensor::from_vector(std::move(ids), shape),
                                          Tensor::from_vector(std::move(mask), shape), config, gopts);
    const Tensor& seqs = out.sequences;
    if (seqs.rank() != 2 || seqs.dim(0) % in_b != 0)
      throw RuntimeError("text-generation: generate() returned sequences of shape " + shape_to_string(seqs.shape()) +
                         " for " + std::to_string(in_b) + " prompts");
    const std::int64_t per_input = seqs.dim(0) / in_b, len = seqs.dim(1);
    const auto all =
        seqs.dtype() == DType::Int64 ? seqs.to_vector<std::int64_t>() : seqs.to(DType::Int64).to_vector<std::int64_t>();
    for (std::int64_t b = 0; b < in_b; ++b) {
      const auto& in = prepared[start + static_cast<std::size_t>(b)];
      const auto& prompt_row = rows[static_cast<std::size_t>(b)];
      std::size_t prompt_length = 0;  // 4.31: 0 when the prompt was empty (input_ids None)
      if (longest > 0 && options.return_type != ReturnType::Tensors) {
        prompt_length = tu::codepoint_length(
            tokenizer_->decode(prompt_row, /*skip_special_tokens=*/true, options.clean_up_tokenization_spaces));
      }
      std::vector<GeneratedOutput> records;
      for (std::int64_t r = 0; r < per_input; ++r) {
        const auto* row = all.data() + (b * per_input + r) * len;
        std::vector<std::int64_t> sequence(row, row + len);
        GeneratedOutput g;
        if (options.return_type == ReturnType::Tensors) {
          g.generated_token_ids = std::move(sequence);
        } else {
          const std::string text =
              tokenizer_->decode(sequence, /*skip_special_tokens=*/true, options.clean_up_tokenization_spaces);
          const std::size_t n = tu::codepoint_length(text);
          const std::string new_text = prompt_length >= n ? std::string() : tu::codepoint_slice(text, prompt_length, n);
          if (options.return_type == ReturnType::FullText && in.messages) {
            Json conversation = *in.messages;
            conversation.push_back({{"role", "assistant"}, {"content", new_text}});
            g.generated_messages = std::move(conversation);
          } else if (options.return_type == ReturnType::FullText) {
            g.generated_text = in.prompt_text + new_text;
          } else {
            g.generated_text = new_text;
          }
        }
        records.push_back(std::move(g));
      }
      results.push_back(std::move(records));
    }
  }
  return results;
}

std::vector<std::vector<GeneratedOutput>> TextGenerationPipeline::run(const std::vector<Json>& inputs,
                                                                      const TextGenerationOptions& options) const {
  std::vector<TextGenerationInputs> prepared;
  prepared.reserve(inputs.size());
  for (const auto& in : inputs) prepared.push_back(preprocess(in, options));
  return run_prepared(prepared, options);
}

std::vector<GeneratedOutput> TextGenerationPipeline::operator()(const std::string& prompt,
                                                                const TextGenerationOptions& options) const {
  return run({Json(prompt)}, options).at(0);
}

std::vector<std::vector<GeneratedOutput>> TextGenerationPipeline::operator()(
    const std::vector<std::string>& prompts, const TextGenerationOptions& options) const {
  std::vector<Json> inputs(prompts.begin(), prompts.end());
  return run(inputs, options);
}

std::vector<GeneratedOutput> TextGenerationPipeline::chat(const Json& messages,
                                                          const TextGenerationOptions& options) const {
  require_message_list(messages);
  return run({messages}, options).at(0);
}

namespace {

Json records_json(const std::vector<GeneratedOutput>& records) {
  Json out = Json::array();
  for (const auto& r : records) out.push_back(r.to_json());
  return out;
}

// The items of one call input: a single prompt / conversation, or a list of them (then a list of results).
std::vector<Json> split_input(const Json& input, bool& is_list) {
  const Json& x = input.is_object() && input.contains("text_inputs") ? input.at("text_inputs") : input;
  if (x.is_object()) {
    throw InvalidArgument("text-generation: an input object must hold `text_inputs`, got " + x.dump());
  }
  is_list = x.is_array() && !is_conversation(x);
  if (!is_list) return {x};
  if (x.empty()) throw InvalidArgument("text-generation: the list of inputs is empty");
  return std::vector<Json>(x.begin(), x.end());
}

}  // namespace

Json TextGenerationPipeline::call(const Json& input, const Json& kwargs) {
  return call_batch({input}, kwargs).at(0);
}

std::vector<Json> TextGenerationPipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  const TextGenerationOptions options = parse_kwargs(kwargs);
  std::vector<Json> items;
  std::vector<std::pair<std::size_t, bool>> spans;  // per input: item count, list-ness
  for (const auto& in : inputs) {
    bool is_list = false;
    auto parts = split_input(in, is_list);
    spans.emplace_back(parts.size(), is_list);
    for (auto& p : parts) items.push_back(std::move(p));
  }
  const auto results = run(items, options);
  std::vector<Json> out;
  std::size_t at = 0;
  for (const auto& [count, is_list] : spans) {
    if (!is_list) {
      out.push_back(records_json(results.at(at++)));
      continue;
    }
    Json list = Json::array();
    for (std::size_t i = 0; i < count; ++i) list.push_back(records_json(results.at(at++)));
    out.push_back(std::move(list));
  }
  // Each warning once per pipeline, as Python's default warning filter shows a UserWarning once per place.
  for (const auto& w : warnings_)
    if (printed_warnings_.insert(w).second) std::cerr << w << "\n";
  return out;
}

ORTFORMERS_REGISTER_PIPELINE("text-generation", make_pipeline<TextGenerationPipeline>);

}  // namespace ortformers::pipelines
