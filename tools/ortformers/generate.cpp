// ortformers generate --model M [--option KEY=JSON ...] --inputs FILE.jsonl [--stream]
// model.generate() of a causal language model (ORTModelForCausalLM) or of a text encoder-decoder
// (ORTModelForSeq2SeqLM: a folder with encoder_model.onnx / config.json is_encoder_decoder). Each input line:
// {"input_ids": [...] | [[...], ...], "attention_mask": ...} or {"text": "..." | ["...", ...]} (tokenized as
// tokenizer(text), padded on the tokenizer's side for a list): the prompt of a causal LM, the encoder's input of a
// seq2seq model; plus an optional "parameters" object of generate kwargs (over the --option ones). Each output line:
// {"sequences": [[...]]} (for seq2seq models the decoder's sequences, starting with the decoder start token), with
// output_scores=true also "scores" (per step, rows x vocab: the processed scores) and, for beam methods,
// "sequences_scores"; -inf / inf / nan are written as the strings "-inf", "inf", "nan".
// Image-to-text folders (ORTModelForVision2Seq / ORTModelForPix2Struct): {"images": [path, ...], "parameters": ...}
// (see generate_images.hpp); the sequences start with the decoder start token.
// --stream (one text input): prints the text as it is generated (TextStreamer), no JSON.
#include <cmath>
#include <iostream>
#include <set>

#include "cli_util.hpp"
#include "commands.hpp"
#include "generate_images.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/generation/generate.hpp"
#include "ortformers/generation/streamers.hpp"
#include "ortformers/models/causal_lm.hpp"
#include "ortformers/models/seq2seq_lm.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace {

using namespace ortformers;

struct GenerateArgs {
  std::string inputs_file, tokenizer;
  std::vector<std::string> options;
  cli::ModelArgs m;
  bool stream = false;
  bool skip_prompt = false;
};

Json float_json(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// [rows, cols] int64 from a list of ids or a list of lists.
Tensor id_matrix(const Json& value, const std::string& what) {
  if (!value.is_array() || value.empty()) throw InvalidArgument("generate: `" + what + "` must be a non-empty list");
  std::vector<std::vector<std::int64_t>> rows;
  try {
    if (value.front().is_array()) {
      rows = value.get<std::vector<std::vector<std::int64_t>>>();
    } else {
      rows.push_back(value.get<std::vector<std::int64_t>>());
    }
  } catch (const Json::exception&) {
    throw InvalidArgument("generate: `" + what + "` must be a list of integers or a list of lists of integers");
  }
  std::vector<std::int64_t> flat;
  for (const auto& r : rows) {
    if (r.size() != rows.front().size())
      throw InvalidArgument("generate: the rows of `" + what + "` have different lengths (pad them)");
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return Tensor::from_vector(std::move(flat),
                             {static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows.front().size())});
}

// tokenizer(texts, padding=True): special tokens added, padded on the tokenizer's side with its pad token (the
// generation config's pad id when it has none).
std::pair<Tensor, Tensor> encode_texts(const tokenizers::PreTrainedTokenizer& tokenizer,
                                       const std::vector<std::string>& texts,
                                       const generation::GenerationConfig& config) {
  std::vector<std::vector<std::int64_t>> encoded;
  std::size_t longest = 0;
  for (const auto& t : texts) {
    encoded.push_back(tokenizer.encode(t).ids);
    longest = std::max(longest, encoded.back().size());
  }
  std::int64_t pad_id = 0;
  bool need_pad = false;
  for (const auto& e : encoded) need_pad = need_pad || e.size() != longest;
  if (need_pad) {
    if (auto p = tokenizer.pad_token_id())
      pad_id = *p;
    else if (config.pad_token_id)
      pad_id = *config.pad_token_id;
    else
      throw InvalidArgument(
          "generate: the texts have different lengths and neither the tokenizer nor the generation config has a "
          "padding token");
  }
  const bool left = tokenizer.padding_side() == tokenizers::PaddingDirection::Left;
  std::vector<std::int64_t> ids, mask;
  for (const auto& e : encoded) {
    const std::size_t pad = longest - e.size();
    if (left) ids.insert(ids.end(), pad, pad_id), mask.insert(mask.end(), pad, 0);
    ids.insert(ids.end(), e.begin(), e.end());
    mask.insert(mask.end(), e.size(), 1);
    if (!left) ids.insert(ids.end(), pad, pad_id), mask.insert(mask.end(), pad, 0);
  }
  const Shape shape{static_cast<std::int64_t>(texts.size()), static_cast<std::int64_t>(longest)};
  return {Tensor::from_vector(std::move(ids), shape), Tensor::from_vector(std::move(mask), shape)};
}

// A text encoder-decoder folder: config.json's is_encoder_decoder, or an encoder_model.onnx (in it or onnx/).
bool is_seq2seq_folder(const std::string& model) {
  namespace fs = std::filesystem;
  const fs::path dir(model);
  if (!fs::is_directory(dir)) return false;
  if (fs::exists(dir / "encoder_model.onnx") || fs::exists(dir / "onnx" / "encoder_model.onnx")) return true;
  if (fs::exists(dir / "config.json")) {
    const Json cfg = read_json_file(dir / "config.json");
    return cfg.is_object() && cfg.value("is_encoder_decoder", false);
  }
  return false;
}

// The model generate() runs: ORTModelForSeq2SeqLM for a text encoder-decoder folder, else ORTModelForCausalLM.
struct LoadedModel {
  std::shared_ptr<const models::GenerativeModel> model;
  std::filesystem::path dir;
};
LoadedModel load_generative(const cli::ModelArgs& m) {
  if (cli::is_image_to_text_folder(m.model)) {
    auto v2s = cli::load_image_to_text(m.model, m.model_options());
    return {v2s, v2s->model_dir()};
  }
  if (is_seq2seq_folder(m.model)) {
    models::Seq2SeqLMOptions so;
    so.base = m.model_options();
    auto s2s =
        std::make_shared<models::ORTModelForSeq2SeqLM>(models::ORTModelForSeq2SeqLM::from_pretrained(m.model, so));
    return {s2s, s2s->model_dir()};
  }
  models::CausalLMOptions mo;
  mo.base = m.model_options();
  auto lm = std::make_shared<models::ORTModelForCausalLM>(models::ORTModelForCausalLM::from_pretrained(m.model, mo));
  return {lm, lm->model_dir()};
}

std::string python_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", '" : "'") + items[i] + "'";
  return s + "]";
}

int generate_command(const GenerateArgs& a) {
  const Json options = cli::parse_options(a.options);
  const std::vector<Json> inputs = cli::read_inputs(a.inputs_file, {});
  if (inputs.empty()) throw InvalidArgument("generate: no inputs: give --inputs FILE.jsonl");
  const LoadedModel loaded = load_generative(a.m);
  const models::GenerativeModel& model = *loaded.model;
  const auto base_config = generation::GenerationConfig::from_pretrained(loaded.dir);
  std::unique_ptr<tokenizers::PreTrainedTokenizer> tokenizer;
  auto get_tokenizer = [&]() -> const tokenizers::PreTrainedTokenizer& {
    if (!tokenizer) {
      tokenizer = std::make_unique<tokenizers::PreTrainedTokenizer>(tokenizers::AutoTokenizer::from_pretrained(
          a.tokenizer.empty() ? loaded.dir : std::filesystem::path(a.tokenizer)));
    }
    return *tokenizer;
  };
  if (a.stream && inputs.size() != 1)
    throw InvalidArgument("generate --stream: give exactly one input (a {\"text\": ...} line), got " +
                          std::to_string(inputs.size()));

  std::set<std::string> printed;
  std::size_t lineno = 0;
  for (const auto& line : inputs) {
    ++lineno;
    const std::string where = "generate: input " + std::to_string(lineno) + ": ";
    if (!line.is_object()) throw InvalidArgument(where + "each input line must be a JSON object, got " + line.dump());
    for (const auto& [key, value] : line.items()) {
      if (key != "input_ids" && key != "attention_mask" && key != "text" && key != "parameters" && key != "images")
        throw InvalidArgument(where + "unknown key '" + key +
                              "' (known: input_ids, attention_mask, text, images, parameters)");
    }
    Json kwargs = options;
    if (line.contains("parameters")) {
      if (!line.at("parameters").is_object())
        throw InvalidArgument(where + "`parameters` must be an object of generate kwargs");
      for (const auto& [k, v] : line.at("parameters").items()) kwargs[k] = v;
    }
    generation::GenerationConfig config = base_config;
    const Json unused = config.update(kwargs);
    if (!unused.empty()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : unused.items()) names.push_back(k);
      throw InvalidArgument("The following `model_kwargs` are not used by the model: " + python_list(names) +
                            " (note: typos in the generate arguments will also show up in this list)");
    }
    Tensor ids, mask;
    TensorMap model_inputs;
    if (line.contains("images")) {
      if (line.contains("input_ids") || line.contains("text"))
        throw InvalidArgument(where + "give `images` alone (the encoder's input), not with `input_ids` / `text`");
      if (!cli::is_image_to_text_folder(a.m.model))
        throw InvalidArgument(where + "`images` needs an image-to-text model (vision-encoder-decoder or pix2struct)");
      model_inputs = cli::image_inputs(line.at("images"), loaded.dir, where);
    } else if (line.contains("text")) {
      if (line.contains("input_ids")) throw InvalidArgument(where + "give `text` or `input_ids`, not both");
      const Json& t = line.at("text");
      std::vector<std::string> texts;
      if (t.is_string()) {
        texts.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty() &&
                 std::all_of(t.begin(), t.end(), [](const Json& x) { return x.is_string(); })) {
        texts = t.get<std::vector<std::string>>();
      } else {
        throw InvalidArgument(where + "`text` must be a string or a non-empty list of strings");
      }
      std::tie(ids, mask) = encode_texts(get_tokenizer(), texts, config);
    } else if (line.contains("input_ids")) {
      ids = id_matrix(line.at("input_ids"), "input_ids");
      if (line.contains("attention_mask")) {
        mask = id_matrix(line.at("attention_mask"), "attention_mask");
        if (mask.shape() != ids.shape())
          throw InvalidArgument(where + "`attention_mask` " + shape_to_string(mask.shape()) +
                                " does not match `input_ids` " + shape_to_string(ids.shape()));
      }
    } else {
      throw InvalidArgument(where + "an input needs `input_ids`, `text` or `images`");
    }

    std::vector<std::string> warnings;
    generation::GenerateOptions go;
    go.warnings = &warnings;
    std::unique_ptr<generation::TextStreamer> streamer;
    if (a.stream) {
      if (!line.contains("text")) throw InvalidArgument("generate --stream: the input must be a {\"text\": ...} line");
      streamer = std::make_unique<generation::TextStreamer>(get_tokenizer(), a.skip_prompt,
                                                            /*skip_special_tokens=*/true, &std::cout);
      go.streamer = streamer.get();
    }
    if (ids.defined()) model_inputs.emplace("input_ids", ids);
    if (mask.defined()) model_inputs.emplace("attention_mask", mask);
    const auto out = generation::generate(model, model_inputs, config, go);
    for (const auto& w : warnings)
      if (printed.insert(w).second) std::cerr << w << "\n";  // each warning once
    if (a.stream) {
      std::cout.flush();
      continue;
    }
    Json result = Json::object();
    const Tensor& seqs = out.sequences;
    const auto values = seqs.to(DType::Int64).to_vector<std::int64_t>();
    Json sequences = Json::array();
    for (std::int64_t r = 0; r < seqs.dim(0); ++r) {
      const auto* row = values.data() + r * seqs.dim(1);
      sequences.push_back(std::vector<std::int64_t>(row, row + seqs.dim(1)));
    }
    result["sequences"] = std::move(sequences);
    if (config.output_scores) {
      Json scores = Json::array();
      for (const auto& step : out.scores) {
        const auto v = step.dtype() == DType::Float32 ? step.to_vector<float>() : step.to_float_vector();
        const std::int64_t cols = step.rank() == 2 ? step.dim(1) : static_cast<std::int64_t>(v.size());
        Json rows = Json::array();
        for (std::size_t at = 0; at < v.size(); at += static_cast<std::size_t>(cols)) {
          Json row = Json::array();
          for (std::int64_t c = 0; c < cols; ++c) row.push_back(float_json(v[at + static_cast<std::size_t>(c)]));
          rows.push_back(std::move(row));
        }
        scores.push_back(std::move(rows));
      }
      result["scores"] = std::move(scores);
      if (config.num_beams > 1 && out.sequences_scores.defined()) {
        Json ss = Json::array();
        for (float s : out.sequences_scores.to_float_vector()) ss.push_back(float_json(s));
        result["sequences_scores"] = std::move(ss);
      }
    }
    cli::print_json_line(result);
  }
  std::cout.flush();
  return 0;
}

void register_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate",
      "model.generate() of a causal LM or a text encoder-decoder: one {\"sequences\": ...} JSON line per input line");
  cmd->add_option("--model", args->m.model, "model folder or hub id")->required();
  using namespace ortformers::cli;
  add_model_options(*cmd, args->m, kRevision | kFileName | kThreads | kExport | kCacheDir);
  cmd->add_option("--option", args->options, "KEY=VALUE generate kwarg for every input (VALUE parsed as JSON)")
      ->allow_extra_args(false);
  cmd->add_option("--inputs", args->inputs_file,
                  "JSON-lines file: {\"input_ids\": [...], \"attention_mask\": [...]} or {\"text\": ...}, with an "
                  "optional \"parameters\" object of generate kwargs")
      ->required();
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder or tokenizer.json (default: the model folder)");
  cmd->add_flag("--stream", args->stream, "print the text as it is generated (one text input; greedy or sampling)");
  cmd->add_flag("--skip-prompt", args->skip_prompt, "with --stream: do not print the prompt");
  ortformers::cli::command_actions()["generate"] = [args] { return generate_command(*args); };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_generate);
