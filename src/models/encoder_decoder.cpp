// ORTModelForConditionalGeneration: optimum 1.17's encoder / decoder file choice, the encoder run, one decoder run
// with or without past, and the accessors shared by the encoder-decoder classes.
#include "ortformers/models/encoder_decoder.hpp"

#include <algorithm>

#include "encoder_decoder_graphs.hpp"
#include "model_resolution.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMerged = "decoder_model_merged.onnx";
constexpr const char* kDecoder = "decoder_model.onnx";
constexpr const char* kWithPast = "decoder_with_past_model.onnx";

struct Choice {
  fs::path encoder;
  fs::path first;
  std::optional<fs::path> with_past;
  DecoderLayout layout;
};

Choice choose_files(const fs::path& dir, const EncoderDecoderOptions& options, const std::string& cls) {
  const fs::path base = options.base.subfolder.empty() ? dir : dir / options.base.subfolder;
  if (!fs::is_directory(base)) throw NotFoundError("model folder not found: " + base.string());
  const std::string where = base.string() + " (or its onnx/ subfolder)";
  if (!options.use_cache && options.use_merged.value_or(false)) {
    throw InvalidArgument(
        "The parameters combination use_cache=False, use_merged=True is not supported. To use a merged decoder, "
        "past key values must be used.");
  }
  Choice c;
  const auto encoder = find_named(base, options.encoder_file_name);
  if (!encoder) {
    throw NotFoundError(cls + ": no encoder " + options.encoder_file_name + " in " + where +
                        " (export the model with optimum's text2text-generation-with-past / "
                        "automatic-speech-recognition-with-past / image-to-text-with-past task)");
  }
  c.encoder = *encoder;
  // An explicit decoder file (optimum's decoder_file_name): merged when it has use_cache_branch (decided once open).
  const std::string decoder_name = options.base.file_name.empty() ? kDecoder : options.base.file_name;
  if (options.use_cache && options.use_merged.value_or(true) && options.base.file_name.empty()) {
    if (auto p = find_named(base, kMerged)) {
      c.first = *p;
      c.layout = DecoderLayout::Merged;
      return c;
    }
    if (options.use_merged.value_or(false)) {
      throw NotFoundError("The parameter use_merged=true was passed to " + cls +
                          ".from_pretrained but no ONNX file for a merged decoder (" + kMerged +
                          ") could be found in " + where);
    }
  }
  const auto decoder = find_named(base, decoder_name);
  if (!decoder) {
    throw NotFoundError(cls + ": no decoder in " + where + ": expected " + kMerged + ", or " + kDecoder +
                        (options.use_cache ? std::string(" + ") + kWithPast : std::string()) +
                        (options.base.file_name.empty() ? "" : " (decoder file_name " + options.base.file_name + ")"));
  }
  c.first = *decoder;
  if (!options.use_cache) {
    c.layout = DecoderLayout::NoCache;
    return c;
  }
  if (options.base.file_name == kMerged) {
    c.layout = DecoderLayout::Merged;
    return c;
  }
  const auto with_past = find_named(base, kWithPast);
  if (!with_past) {
    throw NotFoundError("`use_cache` was set to true but no " + std::string(kWithPast) + " (nor " + kMerged + ") in " +
                        where + ": pass use_cache=false to run " + decoder->filename().string() +
                        " alone, or export the model with past (a -with-past task)");
  }
  c.with_past = *with_past;
  c.layout = DecoderLayout::Split;
  return c;
}

// A config.json integer, at the top level or in the decoder's sub-config (decoder / text_config).
std::int64_t config_int(const config::PretrainedConfig& c, std::initializer_list<const char*> keys,
                        std::string* field = nullptr) {
  for (const char* k : keys) {
    if (c.has(k) && c.json().at(k).is_number_integer()) {
      if (field) *field = k;
      return c.json().at(k).get<std::int64_t>();
    }
  }
  for (const char* sub : {"decoder", "text_config"}) {
    if (!c.has(sub) || !c.json().at(sub).is_object()) continue;
    const Json& j = c.json().at(sub);
    for (const char* k : keys) {
      if (j.contains(k) && j.at(k).is_number_integer()) {
        if (field) *field = std::string(sub) + "." + k;
        return j.at(k).get<std::int64_t>();
      }
    }
  }
  return 0;
}

bool has_past_inputs(const runtime::Session& s) {
  return std::any_of(s.inputs().begin(), s.inputs().end(),
                     [](const runtime::TensorInfo& i) { return i.name.starts_with("past_key_values"); });
}

void read_cache_layout(ORTModelForConditionalGeneration::Graphs& g, const runtime::Session& s,
                       const config::PretrainedConfig& cfg) {
  const std::string path = s.model_path();
  const bool named = s.has_input("past_key_values.0.decoder.key");
  for (std::int64_t i = 0;; ++i) {
    const std::string p = "past_key_values." + std::to_string(i) + ".";
    const std::string o = "present." + std::to_string(i) + ".";
    const std::string self = named ? "decoder." : "";
    if (!s.has_input(p + self + "key")) break;
    for (const char* kv : {"key", "value"}) {
      if (!s.has_input(p + self + kv))
        throw UnsupportedError("graph " + path + " has no input '" + p + self + kv + "'");
      if (!s.has_output(o + self + kv))
        throw UnsupportedError("graph " + path + " has no output '" + o + self + kv + "'");
      g.self_past.push_back(p + self + kv);
      g.self_present.push_back(o + self + kv);
    }
    if (named && s.has_input(p + "encoder.key")) {
      for (const char* kv : {"key", "value"}) {
        if (!s.has_input(p + "encoder." + kv))
          throw UnsupportedError("graph " + path + " has no input '" + p + "encoder." + kv + "'");
        g.cross_past.push_back(p + "encoder." + kv);
        g.cross_present.push_back(o + "encoder." + kv);
      }
    }
  }
  std::size_t past_inputs = 0;
  for (const auto& in : s.inputs()) past_inputs += in.name.starts_with("past_key_values") ? 1 : 0;
  if (g.self_past.empty() || past_inputs != g.self_past.size() + g.cross_past.size() ||
      (!g.cross_past.empty() && g.cross_past.size() != g.self_past.size())) {
    throw UnsupportedError("graph " + path +
                           ": past inputs are not past_key_values.<i>.decoder/encoder.key/value (or "
                           "past_key_values.<i>.key/value) for layers 0..");
  }
  g.num_layers = static_cast<std::int64_t>(g.self_past.size() / 2);
  const runtime::TensorInfo* key = s.input(g.self_past[0]);
  if (key->shape.size() != 4) {
    throw UnsupportedError("graph " + path + ": input '" + key->name + "' has rank " +
                           std::to_string(key->shape.size()) +
                           "; expected [batch, heads, past_sequence_length, head_dim]");
  }
  g.cache_dtype = key->dtype;
  if (g.cache_dtype != DType::Float32 && g.cache_dtype != DType::Float16) {
    throw UnsupportedError("graph " + path + ": past_key_values of dtype " + dtype_name(g.cache_dtype) +
                           " (float32 and float16 are supported)");
  }
  const std::int64_t heads = config_int(cfg, {"decoder_attention_heads", "num_heads", "num_attention_heads", "n_head"});
  const std::int64_t hidden = config_int(cfg, {"d_model", "hidden_size", "n_embd"});
  std::int64_t hd = config_int(cfg, {"d_kv", "head_dim"});
  if (hd == 0 && heads > 0) hd = hidden / heads;
  g.heads = key->shape[1] > 0 ? key->shape[1] : heads;
  g.head_dim = key->shape[3] > 0 ? key->shape[3] : hd;
  if (g.heads <= 0 || g.head_dim <= 0) {
    throw FileFormatError("cannot tell the key/value heads and head size of " + path +
                          ": the graph's past dimensions are symbolic and config.json (" + cfg.source() +
                          ") has no decoder_attention_heads / num_heads / d_model / d_kv");
  }
  for (const auto* names : {&g.self_past, &g.cross_past}) {
    for (const auto& name : *names) {
      const auto* info = s.input(name);
      if (info->dtype != g.cache_dtype || info->shape.size() != 4) {
        throw UnsupportedError("graph " + path + ": input '" + name + "' differs in dtype or rank from '" +
                               g.self_past[0] + "'");
      }
    }
  }
}

Tensor ones(std::int64_t rows, std::int64_t cols) {
  return Tensor::from_vector(std::vector<std::int64_t>(static_cast<std::size_t>(rows * cols), 1), {rows, cols});
}

}  // namespace

const char* layout_name(DecoderLayout layout) noexcept {
  switch (layout) {
    case DecoderLayout::Merged: return "merged decoder (decoder_model_merged.onnx)";
    case DecoderLayout::Split: return "split decoders (decoder_model.onnx + decoder_with_past_model.onnx)";
    case DecoderLayout::NoCache: return "no cache (decoder_model.onnx)";
  }
  return "?";
}

void ORTModelForConditionalGeneration::load_encoder_decoder(const std::string& model_id_or_path,
                                                            const EncoderDecoderOptions& options,
                                                            const std::string& task, const char* class_name) {
  EncoderDecoderOptions opts = options;
  fs::path source = model_id_or_path;
  if (fs::is_regular_file(source)) source = source.parent_path().empty() ? fs::path(".") : source.parent_path();
  const fs::path dir = resolve_model_dir(source.string(), opts.base, task);
  const Choice choice = choose_files(dir, opts, class_name);

  load_resolved(dir, choice.encoder, opts.base.session);  // session_ = the encoder, config_ = config.json
  auto g = std::make_shared<Graphs>();
  g->class_name = class_name;
  g->encoder = session_;
  g->encoder_path = choice.encoder;
  g->decoder_path = choice.first;
  g->layout = choice.layout;
  g->first = std::make_shared<runtime::Session>(choice.first, opts.base.session);
  if (!g->encoder->has_output("last_hidden_state")) {
    throw UnsupportedError("encoder graph " + choice.encoder.string() + " has no 'last_hidden_state' output");
  }
  switch (choice.layout) {
    case DecoderLayout::Merged:
      if (!g->first->has_input("use_cache_branch")) {
        if (opts.use_merged.value_or(false) || choice.first.filename() == kMerged) {
          throw InvalidArgument(choice.first.string() + " is not a merged decoder (no use_cache_branch input)");
        }
      }
      g->with_past = g->first;
      g->with_past_path = choice.first;
      break;
    case DecoderLayout::Split:
      if (has_past_inputs(*g->first)) {
        throw UnsupportedError(choice.first.string() +
                               " takes past_key_values: it is not the first-step decoder of the split layout");
      }
      g->with_past = std::make_shared<runtime::Session>(*choice.with_past, opts.base.session);
      g->with_past_path = *choice.with_past;
      if (!has_past_inputs(*g->with_past)) {
        throw UnsupportedError(choice.with_past->string() + " has no past_key_values inputs");
      }
      break;
    case DecoderLayout::NoCache:
      if (g->first->has_input("use_cache_branch")) {
        throw InvalidArgument(
            choice.first.string() +
            " is a merged decoder: it needs use_cache=true (use_cache=false runs decoder_model.onnx)");
      }
      if (has_past_inputs(*g->first)) {
        throw UnsupportedError(choice.first.string() + " takes past_key_values: use_cache=false needs " + kDecoder);
      }
      g->with_past_path = choice.first;
      break;
  }
  if (g->with_past) read_cache_layout(*g, *g->with_past, config_);
  if (g->caches()) {
    for (const auto& name : g->self_present) {
      if (!g->first->has_output(name)) {
        throw UnsupportedError("graph " + choice.first.string() + " has no output '" + name + "'");
      }
    }
    for (const auto& name : g->cross_present) {
      if (!g->first->has_output(name)) {
        throw UnsupportedError("graph " + choice.first.string() + " has no output '" + name + "'");
      }
    }
  }
  for (const auto* s : {g->first.get(), g->with_past.get()}) {
    if (s && !s->has_output("logits")) throw UnsupportedError("graph " + s->model_path() + " has no 'logits' output");
    if (s && !s->has_input("input_ids")) {
      throw UnsupportedError("graph " + s->model_path() + " has no 'input_ids' input");
    }
  }
  const auto* logits = g->first->output("logits");
  g->vocab =
      (!logits->shape.empty() && logits->shape.back() > 0) ? logits->shape.back() : config_int(config_, {"vocab_size"});
  g->max_positions =
      config_int(config_, {"max_target_positions", "max_position_embeddings", "n_positions"}, &g->max_positions_field);
  graphs_ = std::move(g);
}

TensorMap ORTModelForConditionalGeneration::encoder_feed(const TensorMap& inputs, Tensor& attention_mask) const {
  const runtime::Session& enc = *graphs_->encoder;
  TensorMap feed;
  for (const auto& [name, t] : inputs) {
    if (!enc.has_input(name)) {
      std::string names;
      for (const auto& i : enc.inputs()) names += (names.empty() ? "" : ", ") + i.name;
      throw InvalidArgument(graphs_->class_name + ": the encoder (" + graphs_->encoder_path.filename().string() +
                            ") takes no input '" + name + "'; it takes " + names);
    }
    feed.emplace(name, t);
  }
  for (const auto& i : enc.inputs()) {
    if (!feed.count(i.name)) throw InvalidArgument(graphs_->class_name + ": missing encoder input '" + i.name + "'");
  }
  if (auto it = feed.find("attention_mask"); it != feed.end()) attention_mask = it->second;
  return feed;
}

EncoderOutput ORTModelForConditionalGeneration::encode(const TensorMap& inputs) const {
  Tensor mask;
  TensorMap feed = encoder_feed(inputs, mask);
  TensorMap out = graphs_->encoder->run(feed, {"last_hidden_state"});
  EncoderOutput result;
  result.last_hidden_state = std::move(out.at("last_hidden_state"));
  if (mask.defined()) result.attention_mask = mask.dtype() == DType::Int64 ? mask : mask.to(DType::Int64);
  return result;
}

Tensor ORTModelForConditionalGeneration::Graphs::check_decoder_mask(const Tensor& mask, std::int64_t rows,
                                                                    std::int64_t total, const std::string& what) const {
  if (max_positions > 0 && total > max_positions) {
    throw InvalidArgument(what + ": decoder sequence length " + std::to_string(total) +
                          " exceeds the model's maximum of " + std::to_string(max_positions) + " positions (" +
                          max_positions_field + " in config.json)");
  }
  if (!mask.defined()) return ones(rows, total);
  if (mask.shape() != Shape{rows, total}) {
    throw InvalidArgument(what + ": decoder attention_mask has shape " + shape_to_string(mask.shape()) +
                          " but must be [batch, past_length + new_length] = " + shape_to_string({rows, total}));
  }
  if (mask.dtype() == DType::Int64) return mask;
  if (mask.dtype() == DType::Int32 || mask.dtype() == DType::Bool) return mask.to(DType::Int64);
  throw InvalidArgument(what + ": decoder attention_mask must be int64 (or int32 / bool), got " +
                        dtype_name(mask.dtype()));
}

ORTModelForConditionalGeneration::Graphs::Run ORTModelForConditionalGeneration::Graphs::run(
    const Tensor& ids, const EncoderOutput& encoder, const Tensor& decoder_mask, const std::vector<Tensor>& self,
    const std::vector<Tensor>& cross, std::int64_t past_len) const {
  const std::int64_t rows = ids.dim(0), new_len = ids.dim(1);
  runtime::Session& s = session_for(caches() ? past_len : 0);
  TensorMap f;
  f.emplace("input_ids", ids);
  if (s.has_input("encoder_hidden_states")) f.emplace("encoder_hidden_states", encoder.last_hidden_state);
  if (s.has_input("encoder_attention_mask")) {
    f.emplace("encoder_attention_mask",
              encoder.attention_mask.defined() ? encoder.attention_mask : ones(rows, encoder.last_hidden_state.dim(1)));
  }
  if (s.has_input("decoder_attention_mask")) f.emplace("decoder_attention_mask", decoder_mask);
  if (s.has_input("use_cache_branch")) {
    Tensor branch = Tensor::zeros(DType::Bool, {1});
    branch.data<bool>()[0] = past_len > 0;
    f.emplace("use_cache_branch", branch);
  }
  if (!self_past.empty() && s.has_input(self_past[0])) {
    if (past_len > 0) {
      for (std::size_t i = 0; i < self_past.size(); ++i) f.emplace(self_past[i], self[i]);
      for (std::size_t i = 0; i < cross_past.size(); ++i) f.emplace(cross_past[i], cross[i]);
    } else {
      // optimum 1.17 (merged decoder, first step): zeros of sequence length 1 for every past input.
      const Tensor dummy = Tensor::zeros(cache_dtype, {rows, heads, 1, head_dim});
      for (const auto& name : self_past) f.emplace(name, dummy);
      for (const auto& name : cross_past) f.emplace(name, dummy);
    }
  }
  std::vector<std::string> outputs{"logits"};
  if (caches()) {
    outputs.insert(outputs.end(), self_present.begin(), self_present.end());
    if (past_len == 0) outputs.insert(outputs.end(), cross_present.begin(), cross_present.end());
  }
  TensorMap out = s.run(f, outputs);
  Run r;
  r.logits = std::move(out.at("logits"));
  if (r.logits.rank() != 3 || r.logits.dim(0) != rows || r.logits.dim(1) != new_len) {
    throw RuntimeError("graph " + s.model_path() + " returned logits of shape " + shape_to_string(r.logits.shape()) +
                       "; expected [" + std::to_string(rows) + ", " + std::to_string(new_len) + ", vocab]");
  }
  if (!caches()) return r;
  const Shape self_shape{rows, heads, past_len + new_len, head_dim};
  for (const auto& name : self_present) {
    Tensor t = std::move(out.at(name));
    if (t.shape() != self_shape) {
      throw RuntimeError("graph " + s.model_path() + " returned " + name + " with shape " + shape_to_string(t.shape()) +
                         "; expected " + shape_to_string(self_shape));
    }
    r.self.push_back(std::move(t));
  }
  if (past_len == 0) {
    for (const auto& name : cross_present) {
      Tensor t = std::move(out.at(name));
      if (t.rank() != 4 || t.dim(0) != rows) {
        throw RuntimeError("graph " + s.model_path() + " returned " + name + " with shape " +
                           shape_to_string(t.shape()) + "; expected [" + std::to_string(rows) +
                           ", heads, encoder_sequence_length, head_dim]");
      }
      r.cross.push_back(std::move(t));
    }
  }
  return r;
}

Seq2SeqLMOutput ORTModelForConditionalGeneration::decode(const Tensor& decoder_input_ids,
                                                         const EncoderOutput& encoder_output,
                                                         const EncoderDecoderCache& past_key_values,
                                                         const Tensor& decoder_attention_mask) const {
  const Graphs& g = *graphs_;
  const std::string what = g.class_name + ".forward";
  const Tensor ids = check_token_ids(decoder_input_ids, g.vocab, what, "decoder_input_ids");
  const std::int64_t rows = ids.dim(0), new_len = ids.dim(1);
  const Tensor& h = encoder_output.last_hidden_state;
  if (!h.defined() || h.rank() != 3 || h.dim(0) != rows) {
    throw InvalidArgument(what + ": encoder last_hidden_state has shape " +
                          (h.defined() ? shape_to_string(h.shape()) : std::string("undefined")) + "; expected [" +
                          std::to_string(rows) + ", encoder_sequence_length, hidden]");
  }
  const Tensor& em = encoder_output.attention_mask;
  if (em.defined() && em.shape() != Shape{rows, h.dim(1)}) {
    throw InvalidArgument(what + ": attention_mask has shape " + shape_to_string(em.shape()) + "; expected " +
                          shape_to_string({rows, h.dim(1)}));
  }
  std::vector<Tensor> self, cross;
  std::int64_t past_len = 0;
  if (!past_key_values.empty()) {
    if (!g.caches())
      throw InvalidArgument(what + ": past_key_values given but the model was loaded with use_cache=false");
    if (static_cast<std::int64_t>(past_key_values.size()) != g.num_layers) {
      throw InvalidArgument(what + ": past_key_values has " + std::to_string(past_key_values.size()) +
                            " layers, the model has " + std::to_string(g.num_layers));
    }
    const Tensor& k0 = past_key_values[0].self_key;
    past_len = k0.defined() && k0.rank() == 4 ? k0.dim(2) : -1;
    const Shape want{rows, g.heads, past_len, g.head_dim};
    for (std::size_t l = 0; l < past_key_values.size(); ++l) {
      const auto& layer = past_key_values[l];
      for (const Tensor* t : {&layer.self_key, &layer.self_value}) {
        if (!t->defined() || t->shape() != want) {
          throw InvalidArgument(what + ": past_key_values[" + std::to_string(l) + "] self-attention tensor has shape " +
                                (t->defined() ? shape_to_string(t->shape()) : std::string("undefined")) +
                                "; expected [batch, heads, past_length, head_dim] = " + shape_to_string(want));
        }
        self.push_back(t->dtype() == g.cache_dtype ? *t : t->to(g.cache_dtype));
      }
      if (g.caches_cross()) {
        for (const Tensor* t : {&layer.cross_key, &layer.cross_value}) {
          if (!t->defined() || t->rank() != 4 || t->dim(0) != rows || t->dim(1) != g.heads || t->dim(3) != g.head_dim) {
            throw InvalidArgument(what + ": past_key_values[" + std::to_string(l) +
                                  "] cross-attention tensor has shape " +
                                  (t->defined() ? shape_to_string(t->shape()) : std::string("undefined")) +
                                  "; expected [batch, heads, encoder_sequence_length, head_dim]");
          }
          cross.push_back(t->dtype() == g.cache_dtype ? *t : t->to(g.cache_dtype));
        }
      }
    }
    if (past_len == 0) self.clear(), cross.clear();
  }
  const Tensor dmask = g.check_decoder_mask(decoder_attention_mask, rows, past_len + new_len, what);
  if (g.caches() && past_len > 0 && g.with_past != g.first && new_len != 1) {
    const auto* in = g.with_past->input("input_ids");
    if (in && in->shape.size() == 2 && in->shape[1] == 1) {
      throw InvalidArgument(what + ": " + g.with_past_path.filename().string() +
                            " takes one decoder token per step with past, got " + std::to_string(new_len));
    }
  }
  Graphs::Run r = g.run(ids, encoder_output, dmask, self, cross, past_len);
  Seq2SeqLMOutput out;
  out.logits = std::move(r.logits);
  out.encoder_last_hidden_state = h;
  if (g.caches()) {
    for (std::int64_t l = 0; l < g.num_layers; ++l) {
      DecoderLayerCache layer;
      layer.self_key = std::move(r.self[2 * l]);
      layer.self_value = std::move(r.self[2 * l + 1]);
      if (g.caches_cross()) {
        layer.cross_key = past_len == 0 ? std::move(r.cross[2 * l]) : cross[2 * l];
        layer.cross_value = past_len == 0 ? std::move(r.cross[2 * l + 1]) : cross[2 * l + 1];
      }
      out.past_key_values.push_back(std::move(layer));
    }
  }
  return out;
}

std::unique_ptr<DecoderStep> ORTModelForConditionalGeneration::start(const TensorMap& encoder_inputs) const {
  return start(encode(encoder_inputs));
}

std::unique_ptr<DecoderStep> ORTModelForConditionalGeneration::start(const EncoderOutput& encoder_output) const {
  const Tensor& h = encoder_output.last_hidden_state;
  if (!h.defined() || h.rank() != 3 || h.dim(0) == 0) {
    throw InvalidArgument(graphs_->class_name +
                          ": the encoder output must be [batch, sequence, hidden] with at "
                          "least one row, got " +
                          (h.defined() ? shape_to_string(h.shape()) : std::string("undefined")));
  }
  if (encoder_output.attention_mask.defined() && encoder_output.attention_mask.shape() != Shape{h.dim(0), h.dim(1)}) {
    throw InvalidArgument(graphs_->class_name + ": encoder attention_mask has shape " +
                          shape_to_string(encoder_output.attention_mask.shape()) + "; expected " +
                          shape_to_string({h.dim(0), h.dim(1)}));
  }
  return make_encoder_decoder_step(graphs_, encoder_output);
}

std::int64_t ORTModelForConditionalGeneration::vocab_size() const {
  return graphs_->vocab;
}
std::int64_t ORTModelForConditionalGeneration::max_positions() const {
  return graphs_->max_positions;
}
bool ORTModelForConditionalGeneration::use_cache() const noexcept {
  return graphs_->caches();
}
bool ORTModelForConditionalGeneration::use_merged() const noexcept {
  return graphs_->layout == DecoderLayout::Merged;
}
DecoderLayout ORTModelForConditionalGeneration::layout() const noexcept {
  return graphs_->layout;
}
const fs::path& ORTModelForConditionalGeneration::encoder_path() const noexcept {
  return graphs_->encoder_path;
}
const fs::path& ORTModelForConditionalGeneration::decoder_path() const noexcept {
  return graphs_->decoder_path;
}
const fs::path& ORTModelForConditionalGeneration::decoder_with_past_path() const noexcept {
  return graphs_->with_past_path;
}
const runtime::Session& ORTModelForConditionalGeneration::decoder_session() const noexcept {
  return *graphs_->first;
}
std::int64_t ORTModelForConditionalGeneration::num_layers() const noexcept {
  return graphs_->num_layers;
}
bool ORTModelForConditionalGeneration::caches_cross_attention() const noexcept {
  return graphs_->caches_cross();
}

}  // namespace ortformers::models
