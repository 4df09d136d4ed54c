// generate(): GenerationMixin.generate of transformers 4.31 — inputs, lengths and special tokens prepared as it does,
// the generation mode chosen, the inputs expanded (repeat_interleave), then the strategy loop.
#include "ortformers/generation/generate.hpp"

#include <random>

#include "generation/strategies/common.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::generation {
namespace {

TokenMatrix token_matrix(const Tensor& t, const char* name) {
  if (t.rank() != 2)
    throw InvalidArgument("generate(): `" + std::string(name) + "` must have 2 dimensions [batch, sequence], got " +
                          shape_to_string(t.shape()));
  std::vector<std::int64_t> values;
  if (t.dtype() == DType::Int64)
    values = t.to_vector<std::int64_t>();
  else if (t.dtype() == DType::Int32 || t.dtype() == DType::Bool || t.dtype() == DType::UInt8 ||
           t.dtype() == DType::Int8 || t.dtype() == DType::Int16)
    values = t.to(DType::Int64).to_vector<std::int64_t>();
  else
    throw InvalidArgument("generate(): `" + std::string(name) + "` must hold integers, got " + dtype_name(t.dtype()));
  return TokenMatrix(std::move(values), t.dim(0), t.dim(1));
}

TokenMatrix repeat_interleave(const TokenMatrix& m, std::int64_t times) {
  if (times == 1) return m;
  TokenMatrix out;
  out.rows = m.rows * times;
  out.cols = m.cols;
  for (std::int64_t r = 0; r < m.rows; ++r)
    for (std::int64_t t = 0; t < times; ++t) {
      auto row = m.row(r);
      out.data.insert(out.data.end(), row.begin(), row.end());
    }
  return out;
}

std::string eos_repr(const std::vector<std::int64_t>& eos) {
  if (eos.size() == 1) return std::to_string(eos[0]);
  std::string s = "[";
  for (std::size_t i = 0; i < eos.size(); ++i) s += (i ? ", " : "") + std::to_string(eos[i]);
  return s + "]";
}

}  // namespace

GenerateOutput generate(const models::GenerativeModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                        const GenerationConfig& config, const GenerateOptions& options) {
  TensorMap inputs;
  inputs["input_ids"] = input_ids;
  if (attention_mask.defined()) inputs["attention_mask"] = attention_mask;
  return generate(model, inputs, config, options);
}

GenerateOutput generate(const models::GenerativeModel& model, const TensorMap& inputs,
                        const GenerationConfig& config_in, const GenerateOptions& options) {
  std::vector<std::string> local_warnings;
  std::vector<std::string>& warnings = options.warnings ? *options.warnings : local_warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };

  detail::Run run;
  run.model = &model;
  run.options = &options;
  run.config = config_in;
  GenerationConfig& c = run.config;
  c.validate(&warnings);
  const bool is_encoder_decoder = model.is_encoder_decoder();
  run.vocab = model.vocab_size();
  if (run.vocab <= 0)
    throw InvalidArgument("generate(): the model reports a vocabulary size of " + std::to_string(run.vocab));

  // 1. Special tokens (4.31: pad falls back to the first end-of-sequence id).
  if (!c.pad_token_id && !c.eos_token_id.empty()) {
    warn("Setting `pad_token_id` to `eos_token_id`:" + eos_repr(c.eos_token_id) + " for open-end generation.");
    c.pad_token_id = c.eos_token_id[0];
  }

  // 2. Model inputs.
  TokenMatrix ids, mask, encoder_input_ids;
  TensorMap encoder_inputs;
  std::int64_t batch_size = 0;
  if (!is_encoder_decoder) {
    auto it = inputs.find("input_ids");
    if (it == inputs.end() || !it->second.defined())
      throw InvalidArgument("generate(): decoder-only models need `input_ids`");
    ids = token_matrix(it->second, "input_ids");
    batch_size = ids.rows;
    if (batch_size == 0) throw InvalidArgument("generate(): `input_ids` has no rows (batch size 0)");
    if (ids.cols == 0) {
      // An empty prompt: transformers starts from bos_token_id, as for generate() without input_ids.
      if (!c.bos_token_id) throw InvalidArgument("`bos_token_id` has to be defined when no `input_ids` are provided.");
      ids =
          TokenMatrix(std::vector<std::int64_t>(static_cast<std::size_t>(batch_size), *c.bos_token_id), batch_size, 1);
      mask = TokenMatrix(std::vector<std::int64_t>(static_cast<std::size_t>(batch_size), 1), batch_size, 1);
    } else if (auto m = inputs.find("attention_mask"); m != inputs.end() && m->second.defined()) {
      mask = token_matrix(m->second, "attention_mask");
      if (mask.rows != ids.rows || mask.cols != ids.cols)
        throw InvalidArgument("generate(): `attention_mask` " + shape_to_string(m->second.shape()) +
                              " does not match `input_ids` " + shape_to_string(it->second.shape()));
    } else {
      // _prepare_attention_mask_for_generation: pad positions are masked when pad is not an end-of-sequence id.
      const bool pad_in_inputs =
          c.pad_token_id && std::find(ids.data.begin(), ids.data.end(), *c.pad_token_id) != ids.data.end();
      const bool pad_not_eos = c.eos_token_id.empty() || !is_eos_token(*c.pad_token_id, c.eos_token_id);
      mask = TokenMatrix(std::vector<std::int64_t>(ids.data.size(), 1), ids.rows, ids.cols);
      if (pad_in_inputs && pad_not_eos)
        for (std::size_t i = 0; i < ids.data.size(); ++i) mask.data[i] = ids.data[i] != *c.pad_token_id ? 1 : 0;
    }
    for (auto t : ids.data)
      if (t < 0 || t >= run.vocab)
        throw InvalidArgument("generate(): input_ids holds token id " + std::to_string(t) +
                              ", outside the model's vocabulary (size " + std::to_string(run.vocab) + ")");
    if (c.pad_token_id) {
      bool right_padded = false;
      for (std::int64_t r = 0; r < ids.rows; ++r)
        right_padded = right_padded || (ids.at(r, ids.cols - 1) == *c.pad_token_id && mask.at(r, mask.cols - 1) == 0);
      if (right_padded)
        warn(
            "A decoder-only architecture is being used, but right-padding was detected! For correct generation "
            "results, please set `padding_side='left'` when initializing the tokenizer.");
    }
    encoder_input_ids = ids;  // 4.31 passes the prompt as encoder_input_ids to the processors of decoder-only models
  } else {
    for (const auto& [name, t] : inputs)
      if (name != "decoder_input_ids" && name != "decoder_attention_mask") encoder_inputs[name] = t;
    if (encoder_inputs.empty()) throw InvalidArgument("generate(): an encoder-decoder model needs encoder inputs");
    batch_size = encoder_inputs.begin()->second.rank() > 0 ? encoder_inputs.begin()->second.dim(0) : 0;
    if (batch_size == 0) throw InvalidArgument("generate(): the encoder inputs have no rows (batch size 0)");
    if (auto e = encoder_inputs.find("input_ids"); e != encoder_inputs.end())
      encoder_input_ids = token_matrix(e->second, "input_ids");
    if (auto d = inputs.find("decoder_input_ids"); d != inputs.end() && d->second.defined()) {
      ids = token_matrix(d->second, "decoder_input_ids");
      if (ids.rows != batch_size)
        throw InvalidArgument("generate(): `decoder_input_ids` rows do not match the encoder inputs");
    } else {
      auto start = c.decoder_start_token_id ? c.decoder_start_token_id : c.bos_token_id;
      if (!start)
        throw InvalidArgument(
            "`decoder_start_token_id` or `bos_token_id` has to be defined for encoder-decoder generation.");
      ids = TokenMatrix(std::vector<std::int64_t>(static_cast<std::size_t>(batch_size), *start), batch_size, 1);
    }
    mask = TokenMatrix(std::vector<std::int64_t>(ids.data.size(), 1), ids.rows, ids.cols);
  }
  const std::int64_t input_ids_seq_length = ids.cols;
  run.prompt_length = input_ids_seq_length;
  run.batch_size = batch_size;

  // 3. Lengths.
  const char* ids_name = is_encoder_decoder ? "decoder_input_ids" : "input_ids";
  if (!c.max_length_set_by_call && !c.max_new_tokens && c.max_length == 20) {
    warn(
        "Using the model-agnostic default `max_length` (=20) to control the generation length. We recommend setting "
        "`max_new_tokens` to control the maximum length of the generation.");
  } else if (c.max_new_tokens) {
    if (c.max_length_set_by_call)
      warn("Both `max_new_tokens` (=" + std::to_string(*c.max_new_tokens) +
           ") and `max_length`(=" + std::to_string(c.max_length) +
           ") seem to have been set. `max_new_tokens` will take precedence. Please "
           "refer to the documentation for more information. "
           "(https://huggingface.co/docs/transformers/main/en/main_classes/text_generation)");
    c.max_length = *c.max_new_tokens + input_ids_seq_length;
  }
  if (c.min_length > c.max_length)
    throw InvalidArgument("Unfeasible length constraints: the minimum length (" + std::to_string(c.min_length) +
                          ") is larger than the maximum length (" + std::to_string(c.max_length) + ")");
  if (input_ids_seq_length >= c.max_length)
    warn("Input length of " + std::string(ids_name) + " is " + std::to_string(input_ids_seq_length) +
         ", but `max_length` is set to " + std::to_string(c.max_length) +
         ". This can lead to unexpected behavior. You should consider increasing `max_new_tokens`.");
  if (const auto positions = model.max_positions(); positions > 0) {
    if (input_ids_seq_length > positions)
      throw InvalidArgument("Input length of " + std::string(ids_name) + " is " + std::to_string(input_ids_seq_length) +
                            ", but the model has only " + std::to_string(positions) +
                            " positions (max_position_embeddings / n_positions): shorten the prompt");
    if (c.max_length > positions)
      throw InvalidArgument("`max_length` is " + std::to_string(c.max_length) + " (prompt " +
                            std::to_string(input_ids_seq_length) + " + new tokens), but the model has only " +
                            std::to_string(positions) +
                            " positions (max_position_embeddings / n_positions): lower "
                            "`max_new_tokens` / `max_length` or shorten the prompt");
  }

  // 4. Mode.
  const bool beams = c.num_beams > 1;
  const bool group = c.num_beam_groups > 1;
  if (options.streamer && beams)
    throw InvalidArgument("`streamer` cannot be used with beam search (yet!). Make sure that `num_beams` is set to 1.");
  if (options.streamer && batch_size * (c.do_sample ? c.num_return_sequences : 1) > 1)
    throw InvalidArgument("TextStreamer only supports batch size 1");
  if (!options.stop_strings.empty()) {
    if (beams) throw UnsupportedError("generate(): stop strings are supported with greedy search and sampling only");
    if (!options.decode) throw InvalidArgument("generate(): stop strings need GenerateOptions::decode");
    run.stop_strings.emplace(options.stop_strings, options.decode);
  }
  if ((!c.eos_token_id.empty() || run.stop_strings) && !c.pad_token_id)
    throw InvalidArgument("If `eos_token_id` is defined, make sure that `pad_token_id` is defined.");
  if (c.max_time) run.max_time.emplace(*c.max_time);
  run.processors = get_logits_processor(c, input_ids_seq_length, encoder_input_ids.rows ? &encoder_input_ids : nullptr,
                                        is_encoder_decoder, options.logits_processor);
  if (c.do_sample) {
    run.warpers = get_logits_warper(c);
    run.rng.emplace(c.seed ? *c.seed
                           : (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}());
  }

  // 5. Expansion (_expand_inputs_for_generation) and the model state.
  std::int64_t expand = 1;
  if (!beams && c.do_sample)
    expand = c.num_return_sequences;
  else if (beams && c.do_sample)
    expand = c.num_beams * c.num_return_sequences;
  else if (beams)
    expand = c.num_beams;
  run.input_ids = repeat_interleave(ids, expand);
  run.attention_mask = repeat_interleave(mask, expand);
  run.state = model.start(encoder_inputs);
  if (!run.state) throw RuntimeError("generate(): the model returned no decoding state");
  run.state->reserve(c.max_length);  // the last token is never fed: the cache holds at most max_length - 1
  if (run.state->rows() == batch_size && expand > 1) {
    std::vector<std::int64_t> rows;
    for (std::int64_t b = 0; b < batch_size; ++b)
      for (std::int64_t t = 0; t < expand; ++t) rows.push_back(b);
    run.state->select_rows(rows);
  }

  if (group) return detail::group_beam_search(run);
  if (beams) return detail::beam_search(run, c.do_sample);
  return detail::greedy_or_sample(run, c.do_sample);
}

}  // namespace ortformers::generation
