#include "ortformers/models/causal_lm.hpp"

#include <algorithm>
#include <cstring>

#include "causal_lm_graphs.hpp"
#include "decoder_common.hpp"
#include "model_resolution.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMerged = "decoder_model_merged.onnx";
constexpr const char* kDecoder = "decoder_model.onnx";
constexpr const char* kWithPast = "decoder_with_past_model.onnx";
constexpr const char* kModel = "model.onnx";

bool has_past_inputs(const runtime::Session& s) {
  return std::any_of(s.inputs().begin(), s.inputs().end(),
                     [](const runtime::TensorInfo& i) { return i.name.starts_with("past_key_values"); });
}

// The files from_pretrained loads: the graph of the first run and, for the split layout, the with-past one.
struct Choice {
  fs::path first;
  std::optional<fs::path> with_past;
  CausalLMLayout layout;
};

Choice choose_files(const fs::path& dir, const CausalLMOptions& options) {
  const ModelOptions& base_opts = options.base;
  const fs::path base = base_opts.subfolder.empty() ? dir : dir / base_opts.subfolder;
  if (!fs::is_directory(base)) throw NotFoundError("model folder not found: " + base.string());
  const std::string where = base.string() + " (or its onnx/ subfolder)";
  if (!options.use_cache && options.use_merged.value_or(false)) {
    throw InvalidArgument(
        "The parameters combination use_cache=False, use_merged=True is not supported. To use a merged decoder, "
        "past key values must be used.");
  }
  if (!base_opts.file_name.empty()) {
    fs::path file = find_onnx_file(dir, base_opts);
    if (options.use_cache && file.filename() == kWithPast) {
      const fs::path first = file.parent_path() / kDecoder;
      if (fs::is_regular_file(first)) return {first, file, CausalLMLayout::Split};
    }
    if (options.use_cache && file.filename() == kDecoder) {
      if (auto with_past = find_named(base, kWithPast)) return {file, *with_past, CausalLMLayout::Split};
    }
    // Single / Merged / NoCache: decided from the graph's inputs once it is open.
    return {file, std::nullopt, options.use_cache ? CausalLMLayout::Single : CausalLMLayout::NoCache};
  }
  if (!options.use_cache) {
    for (const char* name : {kDecoder, kModel}) {
      if (auto p = find_named(base, name)) return {*p, std::nullopt, CausalLMLayout::NoCache};
    }
    return {find_onnx_file(dir, base_opts), std::nullopt, CausalLMLayout::NoCache};
  }
  if (options.use_merged.value_or(true)) {
    if (auto p = find_named(base, kMerged)) return {*p, std::nullopt, CausalLMLayout::Merged};
    if (options.use_merged.value_or(false)) {
      throw NotFoundError(
          "The parameter use_merged=true was passed to ORTModelForCausalLM.from_pretrained but no ONNX file for a "
          "merged decoder (decoder_model_merged.onnx) could be found in " +
          where);
    }
  }
  if (auto p = find_named(base, kModel)) return {*p, std::nullopt, CausalLMLayout::Single};
  auto decoder = find_named(base, kDecoder);
  auto with_past = find_named(base, kWithPast);
  if (decoder && with_past) return {*decoder, *with_past, CausalLMLayout::Split};
  if (decoder || with_past) {
    throw NotFoundError(std::string("found ") + (decoder ? kDecoder : kWithPast) + " but not " +
                        (decoder ? kWithPast : kDecoder) + " in " + where +
                        ": the split layout needs both (or pass use_cache=false to run " + kDecoder + " alone)");
  }
  throw NotFoundError("no causal-LM ONNX file in " + where + ": expected " + kModel +
                      " (with past_key_values inputs), " + kMerged + ", or " + kDecoder + " + " + kWithPast +
                      " (export one with optimum or the export option)");
}

std::int64_t config_int(const config::PretrainedConfig& c, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (c.has(k)) return c.get<std::int64_t>(k, 0);
  }
  return 0;
}

// Fills the cache layout of `g` from session `s` (the with-past graph) and the config.
void read_cache_layout(ORTModelForCausalLM::Graphs& g, const runtime::Session& s, const config::PretrainedConfig& cfg) {
  const std::string path = s.model_path();
  for (std::int64_t i = 0;; ++i) {
    const std::string k = "past_key_values." + std::to_string(i) + ".key";
    const std::string v = "past_key_values." + std::to_string(i) + ".value";
    if (!s.has_input(k) && !s.has_input(v)) break;
    for (const auto& name : {k, v}) {
      if (!s.has_input(name)) throw UnsupportedError("graph " + path + " has no input '" + name + "'");
    }
    for (const auto& name : {"present." + std::to_string(i) + ".key", "present." + std::to_string(i) + ".value"}) {
      if (!s.has_output(name)) throw UnsupportedError("graph " + path + " has no output '" + name + "'");
    }
    g.past_names.push_back(k);
    g.past_names.push_back(v);
    g.present_names.push_back("present." + std::to_string(i) + ".key");
    g.present_names.push_back("present." + std::to_string(i) + ".value");
  }
  std::size_t past_inputs = 0;
  for (const auto& in : s.inputs()) past_inputs += in.name.starts_with("past_key_values") ? 1 : 0;
  if (g.past_names.empty() || past_inputs != g.past_names.size()) {
    throw UnsupportedError("graph " + path +
                           ": past inputs are not past_key_values.<i>.key / past_key_values.<i>.value for layers "
                           "0.. (other cache layouts, e.g. fused key_value or bloom's, are not supported)");
  }
  g.num_layers = static_cast<std::int64_t>(g.past_names.size() / 2);
  const runtime::TensorInfo* key = s.input(g.past_names[0]);
  if (key->shape.size() != 4) {
    throw UnsupportedError("graph " + path + ": input '" + key->name + "' has rank " +
                           std::to_string(key->shape.size()) +
                           "; expected [batch, num_key_value_heads, past_sequence_length, head_dim]");
  }
  g.cache_dtype = key->dtype;
  if (g.cache_dtype != DType::Float32 && g.cache_dtype != DType::Float16) {
    throw UnsupportedError("graph " + path + ": past_key_values of dtype " + dtype_name(g.cache_dtype) +
                           " (float32 and float16 are supported)");
  }
  // From the graph when its dimensions are fixed, else from config.json (gpt2: n_head / n_embd; llama:
  // num_attention_heads, num_key_value_heads, hidden_size, head_dim).
  const std::int64_t heads = config_int(cfg, {"num_attention_heads", "n_head", "num_heads"});
  const std::int64_t hidden = config_int(cfg, {"hidden_size", "n_embd", "d_model"});
  std::int64_t kv = config_int(cfg, {"num_key_value_heads", "multi_query_group_num"});
  if (kv == 0) kv = heads;
  std::int64_t hd = config_int(cfg, {"head_dim"});
  if (hd == 0 && heads > 0) hd = hidden / heads;
  g.kv_heads = key->shape[1] > 0 ? key->shape[1] : kv;
  g.head_dim = key->shape[3] > 0 ? key->shape[3] : hd;
  if (g.kv_heads <= 0 || g.head_dim <= 0) {
    throw FileFormatError("cannot tell the key/value heads and head size of " + path +
                          ": the graph's past dimensions are symbolic and config.json (" + cfg.source() +
                          ") has no num_key_value_heads / num_attention_heads / hidden_size");
  }
  for (const auto& name : g.past_names) {
    const auto* info = s.input(name);
    if (info->dtype != g.cache_dtype || info->shape.size() != 4) {
      throw UnsupportedError("graph " + path + ": input '" + name + "' differs in dtype or rank from '" +
                             g.past_names[0] + "'");
    }
  }
}

}  // namespace

const char* layout_name(CausalLMLayout layout) noexcept {
  switch (layout) {
    case CausalLMLayout::Single: return "single graph with past (model.onnx)";
    case CausalLMLayout::Merged: return "merged decoder (decoder_model_merged.onnx)";
    case CausalLMLayout::Split: return "split decoders (decoder_model.onnx + decoder_with_past_model.onnx)";
    case CausalLMLayout::NoCache: return "no cache";
  }
  return "?";
}

ORTModelForCausalLM ORTModelForCausalLM::from_pretrained(const std::string& model_id_or_path,
                                                         const CausalLMOptions& options) {
  CausalLMOptions opts = options;
  if (fs::is_regular_file(model_id_or_path) && opts.base.file_name.empty()) {
    opts.base.file_name = fs::path(model_id_or_path).filename().string();  // a path to the .onnx file itself
  }
  const fs::path dir = resolve_model_dir(model_id_or_path, opts.base, "text-generation-with-past");
  const Choice choice = choose_files(dir, opts);

  ORTModelForCausalLM m;
  m.io_binding_ = opts.io_binding;
  m.load_resolved(dir, choice.first, opts.base.session);
  auto g = std::make_shared<Graphs>();
  g->first = m.session_;
  g->layout = choice.layout;
  if (choice.layout == CausalLMLayout::Split) {
    if (has_past_inputs(*m.session_)) {
      throw UnsupportedError(m.model_path_.string() +
                             " takes past_key_values: it is not the first-step decoder of "
                             "the split layout");
    }
    g->with_past = std::make_shared<runtime::Session>(*choice.with_past, opts.base.session);
    g->with_past_path = *choice.with_past;
    if (!has_past_inputs(*g->with_past)) {
      throw UnsupportedError(choice.with_past->string() + " has no past_key_values inputs");
    }
  } else if (choice.layout == CausalLMLayout::NoCache) {
    g->with_past_path = m.model_path_;
  } else {
    // optimum: use_cache must match the graph (`use_cache` was set to True but the loaded model only supports
    // use_cache=False ...).
    if (!has_past_inputs(*m.session_)) {
      throw InvalidArgument("`use_cache` was set to true but " + m.model_path_.string() +
                            " has no past_key_values inputs (it only supports use_cache=false): load it with "
                            "use_cache=false, or export the model again with past (text-generation-with-past)");
    }
    g->with_past = m.session_;
    g->with_past_path = m.model_path_;
    const bool merged = m.session_->has_input("use_cache_branch");
    if (merged) g->layout = CausalLMLayout::Merged;
    if (!merged && opts.use_merged.value_or(false)) {
      throw InvalidArgument("use_merged=true but " + m.model_path_.string() +
                            " is not a merged decoder (no "
                            "use_cache_branch input)");
    }
  }
  const runtime::Session& layout_graph = g->with_past ? *g->with_past : *g->first;
  if (has_past_inputs(layout_graph)) read_cache_layout(*g, layout_graph, m.config_);
  for (const auto* s : {g->first.get(), g->with_past.get()}) {
    if (s && !s->has_output("logits")) {
      throw UnsupportedError("graph " + s->model_path() + " has no 'logits' output");
    }
    if (s && !s->has_input("input_ids")) {
      throw UnsupportedError("graph " + s->model_path() + " has no 'input_ids' input");
    }
  }
  const auto* logits = g->first->output("logits");
  g->vocab = (!logits->shape.empty() && logits->shape.back() > 0) ? logits->shape.back()
                                                                  : m.config_.get<std::int64_t>("vocab_size", 0);
  for (const char* f : {"n_positions", "max_position_embeddings", "n_ctx"}) {
    if (m.config_.has(f)) {
      g->max_positions = m.config_.get<std::int64_t>(f, 0);
      g->max_positions_field = f;
      break;
    }
  }
  // The shared past/present buffer: asked for, or declared by the graph's metadata.
  bool marked = false;
  if (g->layout == CausalLMLayout::Single) {
    Ort::AllocatorWithDefaultOptions allocator;
    const Ort::ModelMetadata meta = m.session_->raw().GetModelMetadata();
    const Ort::AllocatedStringPtr v = meta.LookupCustomMetadataMapAllocated(kPastPresentShareBufferKey, allocator);
    marked = v && std::string(v.get()) == "true";
  }
  if (opts.past_present_share_buffer.value_or(false)) {
    if (!opts.io_binding) {
      throw InvalidArgument(
          "past_present_share_buffer=true needs io_binding=true (the buffers are bound with "
          "ONNX Runtime's IO binding)");
    }
    if (g->layout != CausalLMLayout::Single) {
      throw UnsupportedError("past_present_share_buffer=true needs one graph with past (model.onnx); " +
                             m.model_path_.string() + " is loaded as the " + layout_name(g->layout));
    }
  }
  m.share_buffer_ =
      opts.io_binding && g->layout == CausalLMLayout::Single && opts.past_present_share_buffer.value_or(marked);
  m.graphs_ = std::move(g);
  return m;
}

// --- shared helpers -------------------------------------------------------------------------------------------

Tensor ORTModelForCausalLM::Graphs::check_input_ids(const Tensor& input_ids, const char* what) const {
  return check_token_ids(input_ids, vocab, what);
}

Tensor ORTModelForCausalLM::Graphs::check_attention_mask(const Tensor& mask, std::int64_t rows, std::int64_t past_len,
                                                         std::int64_t new_len, const char* what) const {
  const std::int64_t total = past_len + new_len;
  if (max_positions > 0 && total > max_positions) {
    throw InvalidArgument(std::string(what) + ": sequence length " + std::to_string(total) + " (" +
                          std::to_string(past_len) + " cached + " + std::to_string(new_len) +
                          " new tokens) exceeds the model's maximum of " + std::to_string(max_positions) +
                          " positions (" + max_positions_field + " in config.json)");
  }
  if (!mask.defined()) return Tensor::from_vector(std::vector<std::int64_t>(rows * total, 1), {rows, total});
  if (mask.shape() != Shape{rows, total}) {
    throw InvalidArgument(std::string(what) + ": attention_mask has shape " + shape_to_string(mask.shape()) +
                          " but must be [batch, past_length + new_length] = " + shape_to_string({rows, total}) + " (" +
                          std::to_string(past_len) + " cached + " + std::to_string(new_len) + " new tokens)");
  }
  if (mask.dtype() == DType::Int64) return mask;
  if (mask.dtype() == DType::Bool) {
    std::vector<std::int64_t> v;
    v.reserve(mask.numel());
    for (bool b : mask.span<bool>()) v.push_back(b ? 1 : 0);
    return Tensor::from_vector(std::move(v), mask.shape());
  }
  if (mask.dtype() == DType::Int32) return mask.to(DType::Int64);
  throw InvalidArgument(std::string(what) + ": attention_mask must be int64 (or int32 / bool), got " +
                        dtype_name(mask.dtype()));
}

TensorMap ORTModelForCausalLM::Graphs::feed(const runtime::Session& session, const Tensor& input_ids,
                                            const Tensor& attention_mask, const Tensor& position_ids,
                                            const std::vector<Tensor>& past) const {
  TensorMap f;
  f.emplace("input_ids", input_ids);
  if (session.has_input("attention_mask")) f.emplace("attention_mask", attention_mask);
  if (session.has_input("position_ids")) f.emplace("position_ids", position_ids);
  if (session.has_input("use_cache_branch")) {
    Tensor branch = Tensor::zeros(DType::Bool, {1});
    branch.data<bool>()[0] = !past.empty();
    f.emplace("use_cache_branch", branch);
  }
  if (!past_names.empty() && session.has_input(past_names[0])) {
    const Tensor empty = Tensor::zeros(cache_dtype, cache_shape(input_ids.dim(0), 0));
    for (std::size_t i = 0; i < past_names.size(); ++i) f.emplace(past_names[i], past.empty() ? empty : past[i]);
  }
  return f;
}

Tensor position_ids_from_mask(const Tensor& attention_mask, std::int64_t new_len) {
  const std::int64_t rows = attention_mask.dim(0), total = attention_mask.dim(1);
  const auto mask = attention_mask.span<std::int64_t>();
  std::vector<std::int64_t> pos(static_cast<std::size_t>(rows * new_len));
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t sum = 0;
    for (std::int64_t c = 0; c < total; ++c) {
      const std::int64_t m = mask[r * total + c];
      sum += m;
      if (c >= total - new_len) pos[r * new_len + (c - (total - new_len))] = m == 0 ? 1 : sum - 1;
    }
  }
  return Tensor::from_vector(std::move(pos), {rows, new_len});
}

// --- ORTModelForCausalLM --------------------------------------------------------------------------------------

CausalLMOutput ORTModelForCausalLM::forward(const Tensor& input_ids, const Tensor& attention_mask,
                                            const Tensor& position_ids, const PastKeyValues& past_key_values) const {
  const Graphs& g = *graphs_;
  const char* what = "ORTModelForCausalLM.forward";
  const Tensor ids = g.check_input_ids(input_ids, what);
  const std::int64_t rows = ids.dim(0), new_len = ids.dim(1);
  std::int64_t past_len = 0;
  std::vector<Tensor> past;
  if (!past_key_values.empty()) {
    if (!g.caches()) {
      throw InvalidArgument(std::string(what) +
                            ": past_key_values given but the model was loaded with use_cache=false");
    }
    if (static_cast<std::int64_t>(past_key_values.size()) != g.num_layers) {
      throw InvalidArgument(std::string(what) + ": past_key_values has " + std::to_string(past_key_values.size()) +
                            " layers, the model has " + std::to_string(g.num_layers));
    }
    past_len =
        past_key_values[0].key.defined() && past_key_values[0].key.rank() == 4 ? past_key_values[0].key.dim(2) : -1;
    for (std::size_t l = 0; l < past_key_values.size(); ++l) {
      for (const Tensor* t : {&past_key_values[l].key, &past_key_values[l].value}) {
        const Shape want = g.cache_shape(rows, past_len);
        if (!t->defined() || t->shape() != want) {
          throw InvalidArgument(
              std::string(what) + ": past_key_values[" + std::to_string(l) + "] has shape " +
              (t->defined() ? shape_to_string(t->shape()) : std::string("undefined")) +
              "; expected [batch, num_key_value_heads, past_length, head_dim] = " + shape_to_string(want));
        }
        if (t->dtype() != g.cache_dtype && !(t->dtype() == DType::Float32 || t->dtype() == DType::Float16)) {
          throw InvalidArgument(std::string(what) + ": past_key_values[" + std::to_string(l) + "] has dtype " +
                                dtype_name(t->dtype()) + ", the graph takes " + dtype_name(g.cache_dtype));
        }
        past.push_back(t->dtype() == g.cache_dtype ? *t : t->to(g.cache_dtype));
      }
    }
    if (past_len == 0) past.clear();  // an empty past is the first step
  }
  const Tensor mask = g.check_attention_mask(attention_mask, rows, past_len, new_len, what);
  Tensor pos;
  if (position_ids.defined()) {
    if (position_ids.shape() != Shape{rows, new_len}) {
      throw InvalidArgument(std::string(what) + ": position_ids has shape " + shape_to_string(position_ids.shape()) +
                            "; expected [batch, sequence_length] = " + shape_to_string({rows, new_len}));
    }
    pos = position_ids;
  } else {
    pos = position_ids_from_mask(mask, new_len);
  }
  runtime::Session& s = g.session_for(past_len);
  TensorMap out = s.run(g.feed(s, ids, mask, pos, past));
  CausalLMOutput result;
  result.logits = take_output(out, "logits");
  if (g.caches()) {
    for (std::size_t i = 0; i < g.present_names.size(); i += 2) {
      result.past_key_values.push_back(
          {take_output(out, g.present_names[i]), take_output(out, g.present_names[i + 1])});
    }
  }
  return result;
}

std::unique_ptr<DecoderStep> ORTModelForCausalLM::start(const TensorMap& /*encoder_inputs*/) const {
  return make_causal_lm_step(graphs_, io_binding_, share_buffer_);
}

std::int64_t ORTModelForCausalLM::vocab_size() const {
  return graphs_->vocab;
}
std::int64_t ORTModelForCausalLM::max_positions() const {
  return graphs_->max_positions;
}
bool ORTModelForCausalLM::use_cache() const noexcept {
  return graphs_->caches();
}
bool ORTModelForCausalLM::use_merged() const noexcept {
  return graphs_->layout == CausalLMLayout::Merged;
}
CausalLMLayout ORTModelForCausalLM::layout() const noexcept {
  return graphs_->layout;
}
const fs::path& ORTModelForCausalLM::decoder_with_past_path() const noexcept {
  return graphs_->with_past_path;
}
std::int64_t ORTModelForCausalLM::num_layers() const noexcept {
  return graphs_->num_layers;
}
std::int64_t ORTModelForCausalLM::num_key_value_heads() const noexcept {
  return graphs_->kv_heads;
}
std::int64_t ORTModelForCausalLM::head_dim() const noexcept {
  return graphs_->head_dim;
}
DType ORTModelForCausalLM::cache_dtype() const noexcept {
  return graphs_->cache_dtype;
}
bool ORTModelForCausalLM::takes_position_ids() const noexcept {
  return graphs_->session_for(1).has_input("position_ids");
}

}  // namespace ortformers::models
