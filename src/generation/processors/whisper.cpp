// Whisper's generation pieces (transformers 4.31): WhisperTimeStampLogitsProcessor and the forced_decoder_ids that
// WhisperForConditionalGeneration.generate derives from language / task / return_timestamps.
#include "ortformers/generation/whisper.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "generation/processors/common.hpp"
#include "ortformers/tokenizers/whisper.hpp"

namespace ortformers::generation {

WhisperTimeStampLogitsProcessor::WhisperTimeStampLogitsProcessor(const GenerationConfig& c) {
  if (c.eos_token_id.empty()) throw InvalidArgument("WhisperTimeStampLogitsProcessor: the config has no eos_token_id");
  if (!c.no_timestamps_token_id)
    throw InvalidArgument(
        "You are trying to return timestamps, but the generation config is not properly set. Make sure to initialize "
        "the generation config with the correct attributes that are needed such as `no_timestamps_token_id`. For more "
        "details on how to generate the approtiate config, refer to "
        "https://github.com/huggingface/transformers/issues/21878#issuecomment-1451902363");
  eos_token_id_ = c.eos_token_id.front();
  no_timestamps_token_id_ = *c.no_timestamps_token_id;
  timestamp_begin_ = no_timestamps_token_id_ + 1;
  const auto& forced = c.forced_decoder_ids;
  begin_index_ = static_cast<std::int64_t>(forced ? forced->size() : 0) + 2;
  if (forced && !forced->empty() && forced->back().second == no_timestamps_token_id_) begin_index_ -= 1;
  max_initial_timestamp_index_ = c.max_initial_timestamp_index;
}

void WhisperTimeStampLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                                 const ProcessorContext&) const {
  const std::int64_t V = scores.vocab;
  detail::check_token(no_timestamps_token_id_, V, "WhisperTimeStampLogitsProcessor");
  if (timestamp_begin_ >= V) return;
  const std::int64_t eos = std::clamp<std::int64_t>(eos_token_id_, 0, V);
  for (std::int64_t r = 0; r < scores.rows; ++r) scores.row(r)[no_timestamps_token_id_] = detail::kNegInf;
  if (input_ids.cols == begin_index_ - 1) {
    for (std::int64_t r = 0; r < scores.rows; ++r) {
      float* row = scores.row(r);
      std::fill(row, row + V, detail::kNegInf);
      row[timestamp_begin_] = 0.0f;
    }
    return;
  }
  // Timestamps come in pairs, except directly before the end of text.
  for (std::int64_t k = 0; k < scores.rows; ++k) {
    const auto row_ids = input_ids.row(k);
    const std::int64_t from = std::min<std::int64_t>(begin_index_, input_ids.cols);
    const std::int64_t len = input_ids.cols - from;
    const bool last_was_timestamp = len >= 1 && row_ids[input_ids.cols - 1] >= timestamp_begin_;
    const bool penultimate_was_timestamp = len < 2 || row_ids[input_ids.cols - 2] >= timestamp_begin_;
    float* row = scores.row(k);
    if (last_was_timestamp) {
      if (penultimate_was_timestamp)
        std::fill(row + timestamp_begin_, row + V, detail::kNegInf);
      else
        std::fill(row, row + eos, detail::kNegInf);
    }
  }
  if (input_ids.cols == begin_index_ && max_initial_timestamp_index_) {
    const std::int64_t last_allowed = timestamp_begin_ + *max_initial_timestamp_index_;
    for (std::int64_t r = 0; r < scores.rows; ++r) {
      float* row = scores.row(r);
      if (last_allowed + 1 < V) std::fill(row + std::max<std::int64_t>(last_allowed + 1, 0), row + V, detail::kNegInf);
    }
  }
  // When the timestamps together are likelier than any single text token, a timestamp must come.
  std::vector<float> logprobs(static_cast<std::size_t>(V));
  for (std::int64_t k = 0; k < scores.rows; ++k) {
    float* row = scores.row(k);
    log_softmax(row, logprobs.data(), V);
    float mx = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = timestamp_begin_; i < V; ++i) mx = std::max(mx, logprobs[i]);
    double timestamp_logprob = -std::numeric_limits<double>::infinity();
    if (std::isfinite(mx)) {
      double s = 0;
      for (std::int64_t i = timestamp_begin_; i < V; ++i) s += std::exp(static_cast<double>(logprobs[i]) - mx);
      timestamp_logprob = static_cast<float>(mx + std::log(s));
    }
    const float max_text = *std::max_element(logprobs.begin(), logprobs.begin() + timestamp_begin_);
    if (timestamp_logprob > static_cast<double>(max_text)) std::fill(row, row + timestamp_begin_, detail::kNegInf);
  }
}

namespace {

std::string py_str_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

std::optional<std::int64_t> lookup(const std::vector<std::pair<std::string, std::int64_t>>& m, const std::string& k) {
  for (const auto& [key, id] : m)
    if (key == k) return id;
  return std::nullopt;
}

}  // namespace

WhisperGeneration prepare_whisper_generation(
    GenerationConfig g,
    const std::optional<std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>>& model_forced,
    const WhisperGenerateArgs& args, const Json& kwargs) {
  using Forced = std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>>;
  if (args.return_timestamps) {
    if (!g.no_timestamps_token_id)
      throw InvalidArgument(
          "You are trying to return timestamps, but the generation config is not properly set.Make sure to initialize "
          "the generation config with the correct attributes that are needed such as `no_timestamps_token_id`.For "
          "more details on how to generate the approtiate config, refer to "
          "https://github.com/huggingface/transformers/issues/21878#issuecomment-1451902363");
    g.return_timestamps = *args.return_timestamps;
  } else {
    g.return_timestamps = false;
  }
  if (args.is_multilingual) g.is_multilingual = *args.is_multilingual;
  if (args.language) {
    std::string lang = *args.language;
    std::transform(lang.begin(), lang.end(), lang.begin(), [](unsigned char ch) { return std::tolower(ch); });
    g.language = lang;
  }
  if (args.task) g.task = *args.task;

  // 4.31's precedence: config.json's forced_decoder_ids, then the generation config's, then the call's.
  std::optional<Forced> forced;
  if (model_forced)
    forced = model_forced;
  else if (g.forced_decoder_ids)
    forced = g.forced_decoder_ids;
  else if (kwargs.is_object() && kwargs.contains("forced_decoder_ids") && !kwargs["forced_decoder_ids"].is_null()) {
    GenerationConfig tmp;
    tmp.update(Json{{"forced_decoder_ids", kwargs["forced_decoder_ids"]}});
    forced = tmp.forced_decoder_ids;
  }
  if (args.task || args.language) {
    Forced f;
    if (g.language) {
      if (!g.lang_to_id)
        throw InvalidArgument(
            "The generation config is outdated and is thus not compatible with the `language` argument to "
            "`generate`. Either set the language using the `forced_decoder_ids` in the model config, or update the "
            "generation config as per the instructions "
            "https://github.com/huggingface/transformers/issues/25084#issuecomment-1664398224");
      const std::string& lang = *g.language;
      std::string token;
      const auto& names = tokenizers::whisper_to_language_code();
      auto by_name = std::find_if(names.begin(), names.end(), [&](const auto& p) { return p.first == lang; });
      auto by_code = std::find_if(names.begin(), names.end(), [&](const auto& p) { return p.second == lang; });
      if (lookup(*g.lang_to_id, lang))
        token = lang;
      else if (by_name != names.end())
        token = "<|" + by_name->second + "|>";
      else if (by_code != names.end())
        token = "<|" + lang + "|>";
      else {
        std::vector<std::string> list;
        for (const auto& [name, code] : names) list.push_back(lang.size() == 2 ? code : name);
        throw InvalidArgument("Unsupported language: " + lang + ". Language should be one of: " + py_str_list(list) +
                              ".");
      }
      const auto id = lookup(*g.lang_to_id, token);
      if (!id) throw InvalidArgument("KeyError: '" + token + "' (not in the generation config's lang_to_id)");
      f.emplace_back(1, *id);
    } else {
      f.emplace_back(1, std::nullopt);  // the model detects the language
    }
    if (g.task) {
      if (*g.task != "translate" && *g.task != "transcribe")
        throw InvalidArgument("The `" + *g.task + "`task is not supported. The task should be one of `" +
                              py_str_list({"translate", "transcribe"}) + "`");
      const auto id = g.task_to_id ? lookup(*g.task_to_id, *g.task) : std::nullopt;
      if (!id) throw InvalidArgument("KeyError: '" + *g.task + "' (not in the generation config's task_to_id)");
      f.emplace_back(2, *id);
    } else if (g.task_to_id) {
      const auto id = lookup(*g.task_to_id, "transcribe");
      if (!id) throw InvalidArgument("KeyError: 'transcribe' (not in the generation config's task_to_id)");
      f.emplace_back(2, *id);
    }
    if (g.no_timestamps_token_id && !g.return_timestamps) f.emplace_back(f.back().first + 1, *g.no_timestamps_token_id);
    forced = std::move(f);
  }
  if (forced) g.forced_decoder_ids = forced;

  WhisperGeneration out;
  if (g.return_timestamps) out.logits_processor.push_back(std::make_shared<WhisperTimeStampLogitsProcessor>(g));
  out.unused_kwargs = g.update(kwargs);
  out.config = std::move(g);
  return out;
}

}  // namespace ortformers::generation
