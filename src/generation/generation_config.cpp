#include "ortformers/generation/generation_config.hpp"

#include <algorithm>
#include <sstream>

#include "ortformers/core/error.hpp"

namespace ortformers::generation {
namespace {

std::string dump(const Json& v) { return v.dump(); }

[[noreturn]] void bad_type(const std::string& key, const Json& v, const char* expected) {
  throw InvalidArgument("GenerationConfig: `" + key + "` must be " + expected + ", got " + dump(v));
}

std::int64_t get_int(const std::string& key, const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
  }
  bad_type(key, v, "an integer");
}
double get_double(const std::string& key, const Json& v) {
  if (v.is_number()) return v.get<double>();
  bad_type(key, v, "a number");
}
bool get_bool(const std::string& key, const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  bad_type(key, v, "a boolean");
}
std::vector<std::int64_t> get_int_list(const std::string& key, const Json& v) {
  if (!v.is_array()) bad_type(key, v, "a list of integers");
  std::vector<std::int64_t> out;
  for (const auto& e : v) out.push_back(get_int(key, e));
  return out;
}
// An int or a list of ints (eos_token_id, forced_eos_token_id).
std::vector<std::int64_t> get_int_or_list(const std::string& key, const Json& v) {
  if (v.is_array()) return get_int_list(key, v);
  return {get_int(key, v)};
}
std::vector<std::vector<std::int64_t>> get_int_lists(const std::string& key, const Json& v) {
  if (!v.is_array()) bad_type(key, v, "a list of lists of integers");
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& e : v) {
    if (!e.is_array()) bad_type(key, v, "a list of lists of integers");
    out.push_back(get_int_list(key, e));
  }
  return out;
}

// sequence_bias: {"[1, 2]": -1.0} / {"1,2": -1.0} (JSON keys are strings) or [[[1, 2], -1.0], ...].
std::vector<std::pair<std::vector<std::int64_t>, double>> get_sequence_bias(const Json& v) {
  std::vector<std::pair<std::vector<std::int64_t>, double>> out;
  if (v.is_object()) {
    for (const auto& [k, b] : v.items()) {
      std::string text = k;
      std::replace(text.begin(), text.end(), ',', ' ');
      std::erase_if(text, [](char c) { return c == '[' || c == ']' || c == '(' || c == ')'; });
      std::istringstream in(text);
      std::vector<std::int64_t> ids;
      std::int64_t id = 0;
      while (in >> id) ids.push_back(id);
      if (ids.empty() || !in.eof()) bad_type("sequence_bias", v, "a map from token id sequences to floats");
      out.emplace_back(std::move(ids), get_double("sequence_bias", b));
    }
    return out;
  }
  if (!v.is_array()) bad_type("sequence_bias", v, "a map from token id sequences to floats");
  for (const auto& e : v) {
    if (!e.is_array() || e.size() != 2) bad_type("sequence_bias", v, "a list of [token ids, bias] pairs");
    out.emplace_back(get_int_list("sequence_bias", e[0]), get_double("sequence_bias", e[1]));
  }
  return out;
}

EarlyStopping get_early_stopping(const Json& v) {
  if (v.is_boolean()) return v.get<bool>() ? EarlyStopping::True : EarlyStopping::False;
  if (v.is_string() && v.get<std::string>() == "never") return EarlyStopping::Never;
  throw InvalidArgument("`early_stopping` must be a boolean or 'never', but is " + dump(v) + ".");
}

std::string py_float(double d) {
  std::string s = format_double(d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Sets one field; false when `key` is not a GenerationConfig field.
bool set_field(GenerationConfig& c, const std::string& key, const Json& v) {
  const bool null = v.is_null();
  const GenerationConfig d;
  auto opt_int = [&](std::optional<std::int64_t>& f) { f = null ? std::nullopt : std::optional(get_int(key, v)); };
  auto opt_double = [&](std::optional<double>& f) { f = null ? std::nullopt : std::optional(get_double(key, v)); };
  if (key == "max_length") c.max_length = null ? d.max_length : get_int(key, v);
  else if (key == "max_new_tokens") opt_int(c.max_new_tokens);
  else if (key == "min_length") c.min_length = null ? 0 : get_int(key, v);
  else if (key == "min_new_tokens") opt_int(c.min_new_tokens);
  else if (key == "early_stopping") c.early_stopping = null ? EarlyStopping::False : get_early_stopping(v);
  else if (key == "max_time") opt_double(c.max_time);
  else if (key == "do_sample") c.do_sample = null ? false : get_bool(key, v);
  else if (key == "num_beams") c.num_beams = null ? 1 : get_int(key, v);
  else if (key == "num_beam_groups") c.num_beam_groups = null ? 1 : get_int(key, v);
  else if (key == "penalty_alpha") opt_double(c.penalty_alpha);
  else if (key == "use_cache") c.use_cache = null ? true : get_bool(key, v);
  else if (key == "temperature") c.temperature = null ? 1.0 : get_double(key, v);
  else if (key == "top_k") opt_int(c.top_k);
  else if (key == "top_p") c.top_p = null ? 1.0 : get_double(key, v);
  else if (key == "typical_p") c.typical_p = null ? 1.0 : get_double(key, v);
  else if (key == "epsilon_cutoff") c.epsilon_cutoff = null ? 0.0 : get_double(key, v);
  else if (key == "eta_cutoff") c.eta_cutoff = null ? 0.0 : get_double(key, v);
  else if (key == "diversity_penalty") c.diversity_penalty = null ? 0.0 : get_double(key, v);
  else if (key == "repetition_penalty") c.repetition_penalty = null ? 1.0 : get_double(key, v);
  else if (key == "encoder_repetition_penalty") c.encoder_repetition_penalty = null ? 1.0 : get_double(key, v);
  else if (key == "length_penalty") c.length_penalty = null ? 1.0 : get_double(key, v);
  else if (key == "no_repeat_ngram_size") c.no_repeat_ngram_size = null ? 0 : get_int(key, v);
  else if (key == "encoder_no_repeat_ngram_size") c.encoder_no_repeat_ngram_size = null ? 0 : get_int(key, v);
  else if (key == "bad_words_ids") {
    if (null) c.bad_words_ids.reset();
    else c.bad_words_ids = get_int_lists(key, v);
  } else if (key == "force_words_ids" || key == "constraints") {
    if (null) c.force_words_ids.reset();
    else c.force_words_ids = v;
  } else if (key == "renormalize_logits") c.renormalize_logits = null ? false : get_bool(key, v);
  else if (key == "forced_bos_token_id") opt_int(c.forced_bos_token_id);
  else if (key == "forced_eos_token_id") c.forced_eos_token_id = null ? std::vector<std::int64_t>{} : get_int_or_list(key, v);
  else if (key == "remove_invalid_values") c.remove_invalid_values = null ? false : get_bool(key, v);
  else if (key == "exponential_decay_length_penalty") {
    if (null) c.exponential_decay_length_penalty.reset();
    else {
      if (!v.is_array() || v.size() != 2) bad_type(key, v, "a pair [start_index, decay_factor]");
      c.exponential_decay_length_penalty = std::pair(get_int(key, v[0]), get_double(key, v[1]));
    }
  } else if (key == "suppress_tokens") {
    if (null) c.suppress_tokens.reset();
    else c.suppress_tokens = get_int_list(key, v);
  } else if (key == "begin_suppress_tokens") {
    if (null) c.begin_suppress_tokens.reset();
    else c.begin_suppress_tokens = get_int_list(key, v);
  } else if (key == "forced_decoder_ids") {
    if (null) c.forced_decoder_ids.reset();
    else {
      if (!v.is_array()) bad_type(key, v, "a list of [index, token id] pairs");
      std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> ids;
      for (const auto& e : v) {
        if (!e.is_array() || e.size() != 2) bad_type(key, v, "a list of [index, token id] pairs");
        ids.emplace_back(get_int(key, e[0]), e[1].is_null() ? std::nullopt : std::optional(get_int(key, e[1])));
      }
      c.forced_decoder_ids = std::move(ids);
    }
  } else if (key == "lang_to_id" || key == "task_to_id") {
    auto& f = key == "lang_to_id" ? c.lang_to_id : c.task_to_id;
    if (null) f.reset();
    else {
      if (!v.is_object()) bad_type(key, v, "a map from strings to token ids");
      std::vector<std::pair<std::string, std::int64_t>> m;
      for (const auto& [k, id] : v.items()) m.emplace_back(k, get_int(key, id));
      f = std::move(m);
    }
  } else if (key == "no_timestamps_token_id") opt_int(c.no_timestamps_token_id);
  else if (key == "max_initial_timestamp_index") opt_int(c.max_initial_timestamp_index);
  else if (key == "is_multilingual") c.is_multilingual = null ? std::nullopt : std::optional(get_bool(key, v));
  else if (key == "return_timestamps") c.return_timestamps = null ? false : get_bool(key, v);
  else if (key == "language" || key == "task") {
    auto& f = key == "language" ? c.language : c.task;
    if (null) f.reset();
    else if (v.is_string()) f = v.get<std::string>();
    else bad_type(key, v, "a string");
  } else if (key == "alignment_heads" || key == "num_frames") {
    // Whisper's token-level timestamps (cross-attention weights): not returned by exported graphs.
  } else if (key == "sequence_bias") {
    if (null) c.sequence_bias.reset();
    else c.sequence_bias = get_sequence_bias(v);
  } else if (key == "guidance_scale") opt_double(c.guidance_scale);
  else if (key == "num_return_sequences") c.num_return_sequences = null ? 1 : get_int(key, v);
  else if (key == "output_scores") c.output_scores = null ? false : get_bool(key, v);
  else if (key == "return_dict_in_generate") c.return_dict_in_generate = null ? false : get_bool(key, v);
  else if (key == "pad_token_id") opt_int(c.pad_token_id);
  else if (key == "bos_token_id") opt_int(c.bos_token_id);
  else if (key == "eos_token_id") c.eos_token_id = null ? std::vector<std::int64_t>{} : get_int_or_list(key, v);
  else if (key == "decoder_start_token_id") opt_int(c.decoder_start_token_id);
  else if (key == "seed") {
    if (null) c.seed.reset();
    else c.seed = static_cast<std::uint64_t>(get_int(key, v));
  } else if (key == "output_attentions" || key == "output_hidden_states" || key == "transformers_version" ||
             key == "_from_model_config" || key == "generation_kwargs" || key == "_commit_hash") {
    // Known to transformers; nothing for ortformers to do (exported graphs return neither attentions nor hidden
    // states).
  } else {
    return false;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& generation_config_keys() {
  static const std::vector<std::string> keys = {
      "max_length", "max_new_tokens", "min_length", "min_new_tokens", "early_stopping", "max_time", "do_sample",
      "num_beams", "num_beam_groups", "penalty_alpha", "use_cache", "temperature", "top_k", "top_p", "typical_p",
      "epsilon_cutoff", "eta_cutoff", "diversity_penalty", "repetition_penalty", "encoder_repetition_penalty",
      "length_penalty", "no_repeat_ngram_size", "bad_words_ids", "force_words_ids", "renormalize_logits",
      "constraints", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
      "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "forced_decoder_ids",
      "sequence_bias", "guidance_scale", "num_return_sequences", "output_attentions", "output_hidden_states",
      "output_scores", "return_dict_in_generate", "pad_token_id", "bos_token_id", "eos_token_id",
      "encoder_no_repeat_ngram_size", "decoder_start_token_id", "seed", "lang_to_id", "task_to_id",
      "no_timestamps_token_id", "max_initial_timestamp_index", "is_multilingual", "return_timestamps"};
  return keys;
}

GenerationConfig GenerationConfig::from_json(const Json& dict) {
  if (!dict.is_object()) throw InvalidArgument("GenerationConfig: expected a JSON object, got " + dump(dict));
  GenerationConfig c;
  for (const auto& [k, v] : dict.items()) set_field(c, k, v);
  return c;
}

GenerationConfig GenerationConfig::from_model_config(const Json& model_config) {
  if (!model_config.is_object()) throw InvalidArgument("GenerationConfig.from_model_config: config is not an object");
  GenerationConfig c = from_json(model_config);
  const Json defaults = GenerationConfig().to_json();
  for (const char* decoder_name : {"decoder", "generator", "text_config"}) {
    auto it = model_config.find(decoder_name);
    if (it == model_config.end() || !it->is_object()) continue;
    // Attributes still at their default take the sub-config's value.
    for (const auto& key : generation_config_keys()) {
      auto sub = it->find(key);
      if (sub == it->end()) continue;
      Json current = c.to_json();
      const bool is_default = !current.contains(key) || (defaults.contains(key) && current[key] == defaults[key]);
      if (is_default) set_field(c, key, *sub);
    }
  }
  return c;
}

GenerationConfig GenerationConfig::from_pretrained(const std::filesystem::path& dir) {
  const auto gen = dir / "generation_config.json";
  if (std::filesystem::exists(gen)) return from_json(read_json_file(gen));
  const auto cfg = dir / "config.json";
  if (std::filesystem::exists(cfg)) return from_model_config(read_json_file(cfg));
  throw NotFoundError("GenerationConfig.from_pretrained: neither generation_config.json nor config.json in " +
                      dir.string());
}

Json GenerationConfig::update(const Json& kwargs) {
  Json unused = Json::object();
  if (kwargs.is_null()) return unused;
  if (!kwargs.is_object()) throw InvalidArgument("GenerationConfig.update: expected a JSON object, got " + dump(kwargs));
  // Whisper's fields are attributes of a Whisper generation config only (transformers' update() sets what hasattr()
  // finds): for other models they stay unused kwargs, as in 4.31.
  static const std::vector<std::string> whisper_keys = {
      "language", "task", "return_timestamps", "is_multilingual", "lang_to_id", "task_to_id", "no_timestamps_token_id",
      "max_initial_timestamp_index", "alignment_heads", "num_frames"};
  const bool whisper = no_timestamps_token_id || lang_to_id || task_to_id;
  for (const auto& [k, v] : kwargs.items()) {
    if (!whisper && std::find(whisper_keys.begin(), whisper_keys.end(), k) != whisper_keys.end()) {
      unused[k] = v;
      continue;
    }
    if (set_field(*this, k, v)) {
      if (k == "max_length" && !v.is_null()) max_length_set_by_call = true;
    } else {
      unused[k] = v;
    }
  }
  return unused;
}

Json GenerationConfig::to_json() const {
  Json j = Json::object();
  const GenerationConfig d;
  if (max_length != d.max_length) j["max_length"] = max_length;
  if (max_new_tokens) j["max_new_tokens"] = *max_new_tokens;
  if (min_length != 0) j["min_length"] = min_length;
  if (min_new_tokens) j["min_new_tokens"] = *min_new_tokens;
  if (early_stopping == EarlyStopping::True) j["early_stopping"] = true;
  if (early_stopping == EarlyStopping::Never) j["early_stopping"] = "never";
  if (max_time) j["max_time"] = *max_time;
  if (do_sample) j["do_sample"] = true;
  if (num_beams != 1) j["num_beams"] = num_beams;
  if (num_beam_groups != 1) j["num_beam_groups"] = num_beam_groups;
  if (penalty_alpha) j["penalty_alpha"] = *penalty_alpha;
  if (!use_cache) j["use_cache"] = false;
  if (temperature != 1.0) j["temperature"] = temperature;
  if (top_k != d.top_k) j["top_k"] = top_k ? Json(*top_k) : Json(nullptr);
  if (top_p != 1.0) j["top_p"] = top_p;
  if (typical_p != 1.0) j["typical_p"] = typical_p;
  if (epsilon_cutoff != 0.0) j["epsilon_cutoff"] = epsilon_cutoff;
  if (eta_cutoff != 0.0) j["eta_cutoff"] = eta_cutoff;
  if (diversity_penalty != 0.0) j["diversity_penalty"] = diversity_penalty;
  if (repetition_penalty != 1.0) j["repetition_penalty"] = repetition_penalty;
  if (encoder_repetition_penalty != 1.0) j["encoder_repetition_penalty"] = encoder_repetition_penalty;
  if (length_penalty != 1.0) j["length_penalty"] = length_penalty;
  if (no_repeat_ngram_size != 0) j["no_repeat_ngram_size"] = no_repeat_ngram_size;
  if (encoder_no_repeat_ngram_size != 0) j["encoder_no_repeat_ngram_size"] = encoder_no_repeat_ngram_size;
  if (bad_words_ids) j["bad_words_ids"] = *bad_words_ids;
  if (force_words_ids) j["force_words_ids"] = *force_words_ids;
  if (renormalize_logits) j["renormalize_logits"] = true;
  if (forced_bos_token_id) j["forced_bos_token_id"] = *forced_bos_token_id;
  if (forced_eos_token_id.size() == 1) j["forced_eos_token_id"] = forced_eos_token_id[0];
  if (forced_eos_token_id.size() > 1) j["forced_eos_token_id"] = forced_eos_token_id;
  if (remove_invalid_values) j["remove_invalid_values"] = true;
  if (exponential_decay_length_penalty)
    j["exponential_decay_length_penalty"] =
        Json::array({exponential_decay_length_penalty->first, exponential_decay_length_penalty->second});
  if (suppress_tokens) j["suppress_tokens"] = *suppress_tokens;
  if (begin_suppress_tokens) j["begin_suppress_tokens"] = *begin_suppress_tokens;
  if (forced_decoder_ids) {
    Json a = Json::array();
    for (const auto& [i, t] : *forced_decoder_ids) a.push_back(Json::array({i, t ? Json(*t) : Json(nullptr)}));
    j["forced_decoder_ids"] = a;
  }
  if (sequence_bias) {
    Json a = Json::array();
    for (const auto& [ids, b] : *sequence_bias) a.push_back(Json::array({ids, b}));
    j["sequence_bias"] = a;
  }
  if (guidance_scale) j["guidance_scale"] = *guidance_scale;
  if (num_return_sequences != 1) j["num_return_sequences"] = num_return_sequences;
  if (output_scores) j["output_scores"] = true;
  if (return_dict_in_generate) j["return_dict_in_generate"] = true;
  if (pad_token_id) j["pad_token_id"] = *pad_token_id;
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (eos_token_id.size() == 1) j["eos_token_id"] = eos_token_id[0];
  if (eos_token_id.size() > 1) j["eos_token_id"] = eos_token_id;
  if (decoder_start_token_id) j["decoder_start_token_id"] = *decoder_start_token_id;
  if (seed) j["seed"] = *seed;
  auto id_map = [](const std::vector<std::pair<std::string, std::int64_t>>& m) {
    Json o = Json::object();
    for (const auto& [k, id] : m) o[k] = id;
    return o;
  };
  if (lang_to_id) j["lang_to_id"] = id_map(*lang_to_id);
  if (task_to_id) j["task_to_id"] = id_map(*task_to_id);
  if (no_timestamps_token_id) j["no_timestamps_token_id"] = *no_timestamps_token_id;
  if (max_initial_timestamp_index) j["max_initial_timestamp_index"] = *max_initial_timestamp_index;
  if (is_multilingual) j["is_multilingual"] = *is_multilingual;
  if (return_timestamps) j["return_timestamps"] = true;
  if (language) j["language"] = *language;
  if (task) j["task"] = *task;
  return j;
}

void GenerationConfig::validate(std::vector<std::string>* warnings) const {
  auto warn = [&](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  auto fail = [](const std::string& m) { throw InvalidArgument(m); };

  // Lengths
  if (max_length < 0) fail("`max_length` has to be a non-negative integer, but is " + std::to_string(max_length));
  if (max_new_tokens && *max_new_tokens <= 0)
    fail("`max_new_tokens` must be greater than 0, but is " + std::to_string(*max_new_tokens) + ".");
  if (min_length < 0) fail("`min_length` has to be a non-negative integer, but is " + std::to_string(min_length));
  if (min_new_tokens && *min_new_tokens < 0)
    fail("`min_new_tokens` has to be a non-negative integer, but is " + std::to_string(*min_new_tokens));
  if (max_time && !(*max_time > 0)) fail("`max_time` has to be a positive number of seconds, but is " + py_float(*max_time));
  if (num_beams < 1) fail("`num_beams` has to be a strictly positive integer, but is " + std::to_string(num_beams));
  if (num_beam_groups < 1)
    fail("`num_beam_groups` has to be a strictly positive integer, but is " + std::to_string(num_beam_groups));
  if (num_return_sequences < 1)
    fail("`num_return_sequences` has to be a strictly positive integer, but is " + std::to_string(num_return_sequences));

  // Refused modes
  if (penalty_alpha && *penalty_alpha > 0 && top_k && *top_k > 1 && num_beams == 1 && !do_sample)
    throw UnsupportedError(
        "contrastive search (`penalty_alpha` > 0 with `top_k` > 1) is not supported: it re-ranks candidates by the "
        "cosine similarity of their last hidden states, which exported ONNX decoder graphs do not return");
  if (force_words_ids && !force_words_ids->is_null())
    throw UnsupportedError(
        "constrained beam search (`force_words_ids` / `constraints`) is not supported by ortformers' generate()");
  if (guidance_scale && *guidance_scale != 1.0)
    throw UnsupportedError(
        "classifier-free guidance (`guidance_scale`) is not supported: it needs a second, unconditional forward pass "
        "per step");

  // 1. sampling-only parameters when not sampling (UserWarning)
  if (!do_sample) {
    auto msg = [](const std::string& name, const std::string& value) {
      return "`do_sample` is set to `False`. However, `" + name + "` is set to `" + value +
             "` -- this flag is only used in sample-based generation modes. You should set `do_sample=True` or "
             "unset `" + name + "`.";
    };
    if (temperature != 1.0) warn(msg("temperature", py_float(temperature)));
    if (top_p != 1.0) warn(msg("top_p", py_float(top_p)));
    if (typical_p != 1.0) warn(msg("typical_p", py_float(typical_p)));
    if (top_k && *top_k != 50) warn(msg("top_k", std::to_string(*top_k)));
    if (epsilon_cutoff != 0.0) warn(msg("epsilon_cutoff", py_float(epsilon_cutoff)));
    if (eta_cutoff != 0.0) warn(msg("eta_cutoff", py_float(eta_cutoff)));
  } else {
    // The warpers' own checks (they are built only for values that change the scores).
    if (temperature != 1.0 && !(temperature > 0))
      fail("`temperature` has to be a strictly positive float, but is " + py_float(temperature));
    if (top_k && *top_k != 0 && *top_k < 0)
      fail("`top_k` has to be a strictly positive integer, but is " + std::to_string(*top_k));
    if (top_p < 0 || top_p > 1.0) fail("`top_p` has to be a float > 0 and < 1, but is " + py_float(top_p));
    if (typical_p < 1.0 && !(typical_p > 0)) fail("`typical_p` has to be a float > 0 and < 1, but is " + py_float(typical_p));
  }
  // 2. beam-only parameters without beams (UserWarning)
  if (num_beams == 1) {
    auto msg = [](const std::string& name, const std::string& value) {
      return "`num_beams` is set to 1. However, `" + name + "` is set to `" + value +
             "` -- this flag is only used in beam-based generation modes. You should set `num_beams>1` or unset `" +
             name + "`.";
    };
    if (early_stopping != EarlyStopping::False)
      warn(msg("early_stopping", early_stopping == EarlyStopping::True ? "True" : "never"));
    if (length_penalty != 1.0) warn(msg("length_penalty", py_float(length_penalty)));
  }
  // 3. group beam search
  if (num_beam_groups > num_beams) fail("`num_beam_groups` has to be smaller or equal to `num_beams`");
  if (num_beam_groups > 1 && do_sample)
    fail("Diverse beam search cannot be used in sampling mode. Make sure that `do_sample` is set to `False`.");
  if (num_beam_groups > 1 && num_beams % num_beam_groups != 0)
    fail("`num_beams` should be divisible by `num_beam_groups` for group beam search.");
  if (num_beam_groups > 1 && diversity_penalty == 0.0)
    fail("`diversity_penalty` should be greater than `0.0`, otherwise your beam groups will be identical.");
  if (diversity_penalty != 0.0 && num_beam_groups == 1)
    fail("`diversity_penalty` is set to `" + py_float(diversity_penalty) +
         "` but `num_beam_groups` is 1: the diversity penalty is only used by group beam search "
         "(HammingDiversityLogitsProcessor needs `num_beam_groups` > 1 to know the groups). Set `num_beam_groups` > 1 "
         "or unset `diversity_penalty`.");
  // 4. num_return_sequences
  if (num_return_sequences != 1) {
    if (num_beams == 1 && !do_sample)
      fail("num_return_sequences has to be 1 when doing greedy search, but is " +
           std::to_string(num_return_sequences) + ".");
    if (num_beams > 1 && num_return_sequences > num_beams)
      fail("`num_return_sequences` has to be smaller or equal to `num_beams`.");
  }
  // 5. processors' own checks
  if (repetition_penalty != 1.0 && !(repetition_penalty > 0))
    fail("`penalty` has to be a strictly positive float, but is " + py_float(repetition_penalty));
  if (encoder_repetition_penalty != 1.0 && !(encoder_repetition_penalty > 0))
    fail("`penalty` has to be a strictly positive float, but is " + py_float(encoder_repetition_penalty));
  if (no_repeat_ngram_size < 0)
    fail("`ngram_size` has to be a strictly positive integer, but is " + std::to_string(no_repeat_ngram_size));
  if (encoder_no_repeat_ngram_size < 0)
    fail("`ngram_size` has to be a strictly positive integer, but is " + std::to_string(encoder_no_repeat_ngram_size));
  if (bad_words_ids) {
    if (bad_words_ids->empty()) fail("`bad_words_ids` has to be a non-empty list, but is [].");
    for (const auto& seq : *bad_words_ids)
      for (auto t : seq)
        if (t < 0) fail("Each list in `bad_words_ids` has to be a list of positive integers, but is " +
                        Json(*bad_words_ids).dump() + ".");
  }
  if (sequence_bias)
    for (const auto& [ids, b] : *sequence_bias)
      if (ids.empty())
        fail("`sequence_bias` has to be a dictionary with non-empty tuples of integers as keys, but is " +
             to_json()["sequence_bias"].dump() + ".");
}

}  // namespace ortformers::generation
