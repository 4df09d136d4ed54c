// ortformers tokenize / decode: the Rust tokenizers library's encode / decode from the command line, one JSON line
// per input (fields named as tokenizers.Encoding names them; offsets in code points).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
namespace tk = ortformers::tokenizers;
using ortformers::InvalidArgument;
using ortformers::Json;

struct TokenizeArgs {
  std::string tokenizer;
  std::optional<std::string> pair;
  bool no_special_tokens = false;
  std::optional<std::size_t> max_length;
  std::optional<std::string> truncation;
  std::size_t stride = 0;
  std::optional<std::string> padding;
  std::optional<std::size_t> pad_to_multiple_of;
  std::optional<std::string> inputs;
  std::vector<std::string> texts;
  std::size_t threads = 1;
};

struct DecodeArgs {
  std::string tokenizer;
  bool skip_special_tokens = false;
  bool keep_special_tokens = false;
  std::optional<std::string> inputs;
  std::vector<std::string> ids;
};

TokenizeArgs targs;
DecodeArgs dargs;

// The tokenizer (Rust-library level) of a tokenizer.json file or a model folder, and the transformers-level wrapper
// when the path is a folder (for its pad token).
struct Loaded {
  tk::PreTrainedTokenizer pretrained;
};

Loaded load(const std::string& path) {
  return Loaded{tk::AutoTokenizer::from_pretrained(path)};
}

Json optional_list(const std::vector<std::optional<std::uint32_t>>& v) {
  Json a = Json::array();
  for (const auto& x : v) a.push_back(x ? Json(*x) : Json(nullptr));
  return a;
}

Json encoding_json(const tk::Encoding& e) {
  Json j = Json::object();
  j["ids"] = e.ids;
  j["tokens"] = e.tokens;
  Json off = Json::array();
  for (const auto& [s, t] : e.offsets) off.push_back({s, t});
  j["offsets"] = off;
  j["type_ids"] = e.type_ids;
  j["attention_mask"] = e.attention_mask;
  j["special_tokens_mask"] = e.special_tokens_mask;
  j["word_ids"] = optional_list(e.word_ids);
  j["sequence_ids"] = optional_list(e.sequence_ids);
  Json o = Json::array();
  for (const auto& x : e.overflowing) o.push_back(encoding_json(x));
  j["overflowing"] = o;
  return j;
}

std::optional<std::pair<std::string, std::int64_t>> find_pad(const tk::PreTrainedTokenizer& p) {
  const auto& t = p.backend();
  if (t.padding()) return std::make_pair(t.padding()->pad_token, t.padding()->pad_id);
  if (auto pad = p.pad_token())
    if (auto id = t.token_to_id(*pad)) return std::make_pair(*pad, *id);
  for (const char* c : {"[PAD]", "<pad>", "<|pad|>", "<|endoftext|>", "</s>", "<unk>", "<|end_of_text|>"})
    if (auto id = t.token_to_id(c)) return std::make_pair(std::string(c), *id);
  return std::nullopt;
}

int run_tokenize() {
  Loaded l = load(targs.tokenizer);
  const tk::Tokenizer& tok = l.pretrained.backend();
  std::vector<tk::EncodeInput> inputs;
  for (const auto& t : targs.texts) {
    if (targs.pair)
      inputs.emplace_back(t, *targs.pair);
    else
      inputs.emplace_back(t);
  }
  if (targs.inputs) {
    std::ifstream in(*targs.inputs);
    if (!in) throw ortformers::NotFoundError("--inputs: cannot open " + *targs.inputs);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Json j;
      try {
        j = Json::parse(line);
      } catch (const Json::exception& e) {
        throw InvalidArgument(*targs.inputs + ":" + std::to_string(n) + ": invalid JSON: " + e.what());
      }
      if (j.is_string()) {
        if (targs.pair)
          inputs.emplace_back(j.get<std::string>(), *targs.pair);
        else
          inputs.emplace_back(j.get<std::string>());
      } else if (j.is_object() && j.contains("text") && j["text"].is_string()) {
        if (j.contains("text_pair") && j["text_pair"].is_string())
          inputs.emplace_back(j["text"].get<std::string>(), j["text_pair"].get<std::string>());
        else
          inputs.emplace_back(j["text"].get<std::string>());
      } else {
        throw InvalidArgument(*targs.inputs + ":" + std::to_string(n) +
                              ": each line must be a JSON string or {\"text\": ..., \"text_pair\": ...}");
      }
    }
  }
  if (inputs.empty()) throw InvalidArgument("tokenize: no input (give TEXT arguments or --inputs FILE.jsonl)");

  tk::EncodeOptions o;
  o.add_special_tokens = !targs.no_special_tokens;
  o.truncation = tok.truncation();
  o.padding = tok.padding();
  o.num_threads = targs.threads;
  if (targs.max_length || targs.truncation) {
    tk::TruncationParams p = o.truncation.value_or(tk::TruncationParams{});
    if (targs.max_length)
      p.max_length = *targs.max_length;
    else if (!o.truncation) {
      if (l.pretrained.model_max_length() == SIZE_MAX)
        throw InvalidArgument("--truncation needs --max-length (the tokenizer has no model_max_length)");
      p.max_length = l.pretrained.model_max_length();
    }
    if (targs.truncation) p.strategy = tk::truncation_strategy_from_string(*targs.truncation);
    p.stride = targs.stride;
    o.truncation = p;
  }
  if (targs.padding || targs.pad_to_multiple_of) {
    const auto pad = find_pad(l.pretrained);
    if (!pad) throw InvalidArgument("--padding: the tokenizer has no padding token");
    tk::PaddingParams p = o.padding.value_or(tk::PaddingParams{});
    p.pad_token = pad->first;
    p.pad_id = pad->second;
    const std::string mode = targs.padding.value_or("longest");
    if (mode == "longest") {
      p.batch_longest = true;
    } else if (mode == "max_length") {
      if (!targs.max_length) throw InvalidArgument("--padding max_length needs --max-length");
      p.batch_longest = false;
      p.fixed_length = *targs.max_length;
    } else {
      throw InvalidArgument("--padding must be longest or max_length, not '" + mode + "'");
    }
    if (targs.pad_to_multiple_of) p.pad_to_multiple_of = *targs.pad_to_multiple_of;
    o.padding = p;
  }
  for (const auto& e : tok.encode_batch(inputs, o))
    std::cout << encoding_json(e).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  return 0;
}

std::vector<std::int64_t> parse_ids(const std::string& s) {
  std::vector<std::int64_t> ids;
  Json j;
  try {
    j = Json::parse(s);
  } catch (const Json::exception&) {
    throw InvalidArgument("decode: '" + s + "' is not an id or a JSON list of ids");
  }
  if (j.is_number_integer()) return {j.get<std::int64_t>()};
  if (!j.is_array()) throw InvalidArgument("decode: '" + s + "' is not an id or a JSON list of ids");
  for (const auto& x : j) {
    if (!x.is_number_integer()) throw InvalidArgument("decode: '" + s + "' contains a non-integer id");
    ids.push_back(x.get<std::int64_t>());
  }
  return ids;
}

int run_decode() {
  if (dargs.skip_special_tokens && dargs.keep_special_tokens)
    throw InvalidArgument("decode: --skip-special-tokens and --keep-special-tokens exclude each other");
  Loaded l = load(dargs.tokenizer);
  const bool skip = !dargs.keep_special_tokens;  // tokenizers' default: skip_special_tokens=True
  std::vector<std::vector<std::int64_t>> rows;
  if (!dargs.ids.empty()) {
    std::vector<std::int64_t> row;
    for (const auto& a : dargs.ids) {
      const auto v = parse_ids(a);
      row.insert(row.end(), v.begin(), v.end());
    }
    rows.push_back(row);
  }
  if (dargs.inputs) {
    std::ifstream in(*dargs.inputs);
    if (!in) throw ortformers::NotFoundError("--inputs: cannot open " + *dargs.inputs);
    std::string line;
    while (std::getline(in, line))
      if (line.find_first_not_of(" \t\r") != std::string::npos) rows.push_back(parse_ids(line));
  }
  if (rows.empty()) throw InvalidArgument("decode: no ids (give IDS arguments or --inputs FILE.jsonl)");
  for (const auto& r : rows)
    std::cout << Json(l.pretrained.backend().decode(r, skip)).dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
  return 0;
}

void register_tokenize(CLI::App& app) {
  auto* t = app.add_subcommand("tokenize",
                               "Encode texts with a tokenizer.json (Rust tokenizers semantics), one JSON line each");
  t->add_option("--tokenizer", targs.tokenizer, "tokenizer.json file or model folder")->required();
  t->add_option("--pair", targs.pair, "second sequence for every input");
  t->add_flag("--no-special-tokens", targs.no_special_tokens, "do not add the post-processor's special tokens");
  t->add_option("--max-length", targs.max_length, "truncate to this many tokens (special tokens included)");
  t->add_option("--truncation", targs.truncation, "longest_first | only_first | only_second");
  t->add_option("--stride", targs.stride, "overlap of the overflowing windows");
  t->add_option("--padding", targs.padding, "longest | max_length");
  t->add_option("--pad-to-multiple-of", targs.pad_to_multiple_of, "round the padded length up to a multiple of N");
  t->add_option("--inputs", targs.inputs, "JSON lines: strings or {\"text\": ..., \"text_pair\": ...}");
  t->add_option("--threads", targs.threads, "encoding threads (0 = all cores)");
  t->add_option("texts", targs.texts, "texts to encode");
  ortformers::cli::command_actions()["tokenize"] = run_tokenize;

  auto* d = app.add_subcommand("decode", "Decode token ids with a tokenizer.json, one JSON string per line");
  d->add_option("--tokenizer", dargs.tokenizer, "tokenizer.json file or model folder")->required();
  d->add_flag("--skip-special-tokens", dargs.skip_special_tokens, "drop special tokens (the default)");
  d->add_flag("--keep-special-tokens", dargs.keep_special_tokens, "keep special tokens");
  d->add_option("--inputs", dargs.inputs, "JSON lines, each a list of ids");
  d->add_option("ids", dargs.ids, "ids (numbers or JSON lists)");
  ortformers::cli::command_actions()["decode"] = run_decode;
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_tokenize);
