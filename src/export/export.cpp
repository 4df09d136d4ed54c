// The export driver: config -> architecture + task, graph inputs/outputs as optimum writes them, multiple-choice
// flattening, the sentence-transformers pooling/normalisation, checks, files next to model.onnx, the cache.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "export/architectures/architecture.hpp"
#include "export/exporter.hpp"
#include "ortformers/core/error.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/hub/hub.hpp"

#if __has_include("ortformers/export/quantize.hpp")
#include "ortformers/export/quantize.hpp"
#define ORTFORMERS_HAVE_QUANTIZE 1
#endif

namespace ortformers::exporters {

namespace fs = std::filesystem;

namespace {

constexpr int kInt64 = onnx::TensorProto_DataType_INT64;
constexpr int kFloat = onnx::TensorProto_DataType_FLOAT;

struct PoolingConfig {
  bool cls = false, mean = false, max = false, mean_sqrt_len = false;
};

struct SentenceTransformersInfo {
  PoolingConfig pooling;
  bool normalize = false;
  std::vector<fs::path> module_dirs;  // relative paths of module folders to copy
};

SentenceTransformersInfo read_sentence_transformers(const fs::path& dir) {
  SentenceTransformersInfo info;
  const auto modules_file = dir / "modules.json";
  const Json modules = read_json_file(modules_file);
  if (!modules.is_array()) throw FileFormatError(modules_file.string() + ": expected a JSON array of modules");
  bool have_pooling = false;
  for (const auto& m : modules) {
    const auto type = m.value("type", std::string());
    const auto path = m.value("path", std::string());
    if (!path.empty()) {
      const fs::path rel(path);
      if (rel.is_absolute() || path.find("..") != std::string::npos)
        throw FileFormatError(modules_file.string() + ": module path '" + path + "' must stay inside the folder");
      info.module_dirs.push_back(rel);
    }
    if (type == "sentence_transformers.models.Transformer") continue;
    if (type == "sentence_transformers.models.Pooling") {
      const auto cfg_file = dir / path / "config.json";
      const Json cfg = read_json_file(cfg_file);
      auto flag = [&](const char* k) { return cfg.contains(k) && cfg.at(k).is_boolean() && cfg.at(k).get<bool>(); };
      info.pooling.cls = flag("pooling_mode_cls_token");
      info.pooling.mean = flag("pooling_mode_mean_tokens");
      info.pooling.max = flag("pooling_mode_max_tokens");
      info.pooling.mean_sqrt_len = flag("pooling_mode_mean_sqrt_len_tokens");
      for (const char* k : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
        if (flag(k)) throw UnsupportedError(cfg_file.string() + ": " + k + " is not supported by the exporter");
      if (!(info.pooling.cls || info.pooling.mean || info.pooling.max || info.pooling.mean_sqrt_len))
        throw FileFormatError(cfg_file.string() + ": no pooling mode is enabled");
      have_pooling = true;
      continue;
    }
    if (type == "sentence_transformers.models.Normalize") {
      info.normalize = true;
      continue;
    }
    throw UnsupportedError(modules_file.string() + ": sentence-transformers module '" + type +
                           "' is not supported by the exporter (Transformer, Pooling, Normalize are)");
  }
  if (!have_pooling) throw UnsupportedError(modules_file.string() + ": no Pooling module");
  return info;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Pooling of sentence-transformers (models/Pooling.py) on token embeddings [B, S, H] -> [B, H * modes].
std::string sentence_pooling(BuildContext& ctx, const std::string& hidden, const SentenceTransformersInfo& st) {
  auto& g = ctx.g;
  const std::string s = "/pooling";
  std::vector<std::string> parts;
  auto mask_f =
      g.node(s, "Cast", {g.node(s, "Unsqueeze", {ctx.attention_mask, g.const_i64({-1})})}, {attr("to", kFloat)});
  if (st.pooling.cls) parts.push_back(first_token(ctx, s + "/cls", hidden));
  if (st.pooling.max) {
    auto is_pad = g.node(s + "/max", "Equal", {mask_f, g.scalar_f32(0.0f)});
    auto filled = g.node(s + "/max", "Where", {is_pad, g.scalar_f32(-1e9f), hidden});
    parts.push_back(
        g.node(s + "/max", "ReduceMax", {filled}, {attr("axes", std::vector<std::int64_t>{1}), attr("keepdims", 0)}));
  }
  if (st.pooling.mean || st.pooling.mean_sqrt_len) {
    auto weighted = g.node(s + "/mean", "Mul", {hidden, mask_f});
    auto sum = g.node(s + "/mean", "ReduceSum", {weighted, g.const_i64({1})}, {attr("keepdims", 0)});
    auto count = g.node(s + "/mean", "ReduceSum", {mask_f, g.const_i64({1})}, {attr("keepdims", 0)});
    count = g.node(s + "/mean", "Max", {count, g.scalar_f32(1e-9f)});
    if (st.pooling.mean) parts.push_back(g.node(s + "/mean", "Div", {sum, count}));
    if (st.pooling.mean_sqrt_len)
      parts.push_back(g.node(s + "/mean_sqrt_len", "Div", {sum, g.node(s + "/mean_sqrt_len", "Sqrt", {count})}));
  }
  std::string pooled = parts.size() == 1 ? parts[0] : g.node(s, "Concat", parts, {attr("axis", -1)});
  if (st.normalize) {
    const std::string n = "/normalize";
    auto norm = g.node(n, "ReduceL2", {pooled}, {attr("axes", std::vector<std::int64_t>{-1}), attr("keepdims", 1)});
    norm = g.node(n, "Max", {norm, g.scalar_f32(1e-12f)});
    pooled = g.node(n, "Div", {pooled, norm});
  }
  return pooled;
}

// The text graph: token inputs as optimum declares them, multiple-choice flattening, the encoder, then the task
// head or the sentence-transformers pooling. Output values and names go to `renames`.
void build_text_graph(BuildContext& ctx, const Architecture& arch_ref, const std::string& task,
                      const std::string& library, const SentenceTransformersInfo& st,
                      const std::function<void(double, const std::string&)>& ctx_report,
                      std::vector<std::pair<std::string, std::string>>& renames) {
  auto& g = ctx.g;
  const auto& cfg = ctx.config;
  const Architecture* arch = &arch_ref;
  const bool mc = task == "multiple-choice";
  const bool with_tt = arch->uses_token_type_ids() && library == "transformers";
  std::vector<Dim> in_dims =
      mc ? std::vector<Dim>{std::string("batch_size"), std::string("num_choices"), std::string("sequence_length")}
         : std::vector<Dim>{std::string("batch_size"), std::string("sequence_length")};
  std::vector<std::string> input_names{"input_ids", "attention_mask"};
  if (with_tt) input_names.push_back("token_type_ids");
  for (const auto& n : input_names) g.add_input(n, kInt64, in_dims);

  EncoderInputs in{"input_ids", "attention_mask", with_tt ? "token_type_ids" : ""};
  if (mc) {
    // [batch, choices, seq] -> [batch * choices, seq]
    auto shape = g.node("/flatten", "Shape", {"input_ids"});
    auto seq = g.node("/flatten", "Gather", {shape, g.const_i64({2})}, {attr("axis", 0)});
    auto flat = g.node("/flatten", "Concat", {g.const_i64({-1}), seq}, {attr("axis", 0)});
    in.input_ids = g.node("/flatten/input_ids", "Reshape", {"input_ids", flat});
    in.attention_mask = g.node("/flatten/attention_mask", "Reshape", {"attention_mask", flat});
    if (with_tt) in.token_type_ids = g.node("/flatten/token_type_ids", "Reshape", {"token_type_ids", flat});
  }
  ctx.input_ids = in.input_ids;
  ctx.attention_mask = in.attention_mask;
  ctx.token_type_ids = in.token_type_ids;

  ctx_report(0.1, "building embeddings");
  const std::string hidden = arch->build_encoder(ctx, in);
  const auto H = arch->hidden_size(cfg);
  const Dim B = std::string("batch_size"), S = std::string("sequence_length");

  if (library == "sentence_transformers") {
    auto pooled = sentence_pooling(ctx, hidden, st);
    std::int64_t modes = st.pooling.cls + st.pooling.mean + st.pooling.max + st.pooling.mean_sqrt_len;
    renames.push_back({hidden, "token_embeddings"});
    renames.push_back({pooled, "sentence_embedding"});
    g.add_output("token_embeddings", kFloat, {B, S, H});
    g.add_output("sentence_embedding", kFloat, {B, H * modes});
  } else if (task == "feature-extraction") {
    renames.push_back({hidden, "last_hidden_state"});
    g.add_output("last_hidden_state", kFloat, {B, S, H});
  } else {
    ctx_report(0.87, "building " + task + " head");
    auto heads = arch->build_head(ctx, task, hidden);
    const auto labels = cfg.num_labels();
    for (auto& h : heads) {
      std::vector<Dim> dims;
      if (mc) {
        auto shape = g.node("/unflatten", "Shape", {"input_ids"});
        auto choices = g.node("/unflatten", "Gather", {shape, g.const_i64({1})}, {attr("axis", 0)});
        auto target = g.node("/unflatten", "Concat", {g.const_i64({-1}), choices}, {attr("axis", 0)});
        h.value = g.node("/unflatten", "Reshape", {h.value, target});
        dims = {B, std::string("num_choices")};
      } else if (task == "text-classification") {
        dims = {B, labels};
      } else if (task == "token-classification") {
        dims = {B, S, labels};
      } else if (task == "question-answering") {
        dims = {B, S};
      } else if (task == "fill-mask") {
        dims = {B, S, cfg.require<std::int64_t>("vocab_size")};
      }
      renames.push_back({h.value, h.name});
      g.add_output(h.name, kFloat, dims);
    }
  }
}

std::string producer_version() {
  return "0.1.0";
}

}  // namespace

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& a : architecture_registry())
    for (const auto& t : a->model_types()) out.push_back(t);
  return out;
}

std::string normalize_task(const std::string& task) {
  static const std::vector<std::pair<std::string, std::string>> map = {
      {"auto", "auto"},
      {"feature-extraction", "feature-extraction"},
      {"default", "feature-extraction"},
      {"sentence-similarity", "feature-extraction"},
      {"sentence-embeddings", "feature-extraction"},
      {"text-classification", "text-classification"},
      {"sequence-classification", "text-classification"},
      {"sentiment-analysis", "text-classification"},
      {"zero-shot-classification", "text-classification"},
      {"token-classification", "token-classification"},
      {"ner", "token-classification"},
      {"question-answering", "question-answering"},
      {"fill-mask", "fill-mask"},
      {"masked-lm", "fill-mask"},
      {"multiple-choice", "multiple-choice"},
      {"image-feature-extraction", "feature-extraction"},
      {"image-classification", "image-classification"},
      {"semantic-segmentation", "semantic-segmentation"},
      {"image-segmentation", "semantic-segmentation"},
      {"image-to-image", "image-to-image"},
      {"audio-classification", "audio-classification"},
      {"audio-frame-classification", "audio-frame-classification"},
      {"audio-xvector", "audio-xvector"},
      {"automatic-speech-recognition", "automatic-speech-recognition"},
      {"audio-ctc", "automatic-speech-recognition"},
      {"text-generation", "text-generation"},
      {"causal-lm", "text-generation"},
      {"text-generation-with-past", "text-generation-with-past"},
      {"causal-lm-with-past", "text-generation-with-past"},
      {"text2text-generation", "text2text-generation"},
      {"seq2seq-lm", "text2text-generation"},
      {"text2text-generation-with-past", "text2text-generation-with-past"},
      {"seq2seq-lm-with-past", "text2text-generation-with-past"},
      {"automatic-speech-recognition-with-past", "automatic-speech-recognition-with-past"},
      {"speech2seq-lm", "automatic-speech-recognition"},
      {"speech2seq-lm-with-past", "automatic-speech-recognition-with-past"},
      {"image-to-text", "image-to-text"},
      {"image-to-text-with-past", "image-to-text-with-past"},
  };
  for (const auto& [k, v] : map)
    if (k == task) return v;
  std::vector<std::string> names;
  for (const auto& [k, v] : map) names.push_back(k);
  throw InvalidArgument("unknown export task '" + task + "' (known: " + join(names) + ")");
}

std::string infer_task(const fs::path& model_dir) {
  const auto cfg = config::PretrainedConfig::from_pretrained(model_dir);
  if (fs::exists(model_dir / "modules.json")) return "feature-extraction";
  const auto& archs = cfg.architectures();
  if (archs.empty()) return "feature-extraction";
  const std::string& a = archs.front();
  if (const Architecture* arch = find_architecture(cfg.model_type()); arch != nullptr) {
    auto t = arch->task_for_class(a);
    // optimum's main_export adds -with-past for a decoder whose config uses the cache (the default).
    const std::string suffix = "-with-past";
    if (t.size() > suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        !cfg.get<bool>("use_cache", true))
      t.resize(t.size() - suffix.size());
    if (!t.empty()) return t;
  }
  auto ends = [&](const std::string& suf) {
    return a.size() >= suf.size() && a.compare(a.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends("ForSequenceClassification")) return "text-classification";
  if (ends("ForTokenClassification")) return "token-classification";
  if (ends("ForQuestionAnswering")) return "question-answering";
  if (ends("ForMaskedLM")) return "fill-mask";
  if (ends("ForMultipleChoice")) return "multiple-choice";
  if (ends("Model")) return "feature-extraction";
  std::string tasks;
  if (const Architecture* arch = find_architecture(cfg.model_type()); arch != nullptr) tasks = join(arch->tasks());
  throw UnsupportedError(cfg.source() + ": cannot infer the export task from architectures '" + a + "'; pass a task" +
                         (tasks.empty() ? std::string() : " (" + tasks + ")"));
}

const char* decoder_file_name(DecoderFile f) noexcept {
  switch (f) {
    case DecoderFile::Model: return "model.onnx";
    case DecoderFile::Decoder: return "decoder_model.onnx";
    case DecoderFile::DecoderWithPast: return "decoder_with_past_model.onnx";
    case DecoderFile::Encoder: return "encoder_model.onnx";
  }
  return "model.onnx";
}

namespace {
bool is_text_generation(const std::string& task) {
  return task == "text-generation" || task == "text-generation-with-past";
}
}  // namespace

BuiltModel build_model(const fs::path& model_dir, const ExportOptions& options,
                       const std::function<void(double, const std::string&)>& progress, bool materialize,
                       DecoderFile decoder_file) {
  auto report = [&](double f, const std::string& m) {
    if (progress) progress(f, m);
  };
  if (options.opset < 14 || options.opset > 17)
    throw InvalidArgument("opset " + std::to_string(options.opset) + " is not supported (14 to 17)");
#ifdef ORTFORMERS_HAVE_QUANTIZE
  const std::optional<QuantizeNBitsOptions> nbits = options.quantize ? nbits_preset(*options.quantize) : std::nullopt;
  if (options.quantize && !nbits) (void)quantization_preset(*options.quantize);  // InvalidArgument naming the names
#else
  const bool nbits = false;
#endif
  if (!fs::is_directory(model_dir)) throw NotFoundError("model folder " + model_dir.string() + " does not exist");

  report(0.0, "reading config");
  const auto cfg = config::PretrainedConfig::from_pretrained(model_dir);
  const Architecture* arch = find_architecture(cfg.model_type());
  if (arch == nullptr)
    throw UnsupportedError(cfg.source() + ": model_type '" + cfg.model_type() +
                           "' is not supported by the exporter (supported: " + join(supported_model_types()) + ")");

  std::string task = normalize_task(options.task);
  if (task == "auto") task = infer_task(model_dir);
  const auto tasks = arch->tasks();
  if (std::find(tasks.begin(), tasks.end(), task) == tasks.end())
    throw UnsupportedError("task '" + task + "' is not supported for model_type '" + cfg.model_type() +
                           "' (supported: " + join(tasks) + ")");

  std::string library = options.library_name;
  if (library != "auto" && library != "transformers" && library != "sentence_transformers")
    throw InvalidArgument("library_name '" + library + "' is not one of auto, transformers, sentence_transformers");
  const bool has_modules = fs::exists(model_dir / "modules.json");
  if (library == "auto")
    library = (has_modules && task == "feature-extraction") ? "sentence_transformers" : "transformers";
  if (library == "sentence_transformers") {
    if (!has_modules)
      throw NotFoundError((model_dir / "modules.json").string() +
                          " is missing; the sentence-transformers form needs it");
    if (task != "feature-extraction")
      throw InvalidArgument("the sentence-transformers form is a feature-extraction export, not '" + task + "'");
  }
  SentenceTransformersInfo st;
  if (library == "sentence_transformers") st = read_sentence_transformers(model_dir);

  report(0.05, "loading weights");
  auto sd = std::make_shared<const StateDict>(load_checkpoint(model_dir));
  Weights weights(*sd, arch->base_model_prefix());

  GraphBuilder g(options.opset, "main_graph");
  BuildContext ctx(g, cfg, weights);
  // int8 builds on the fused graph: its packed-QKV Attention becomes QAttention, faster than quantising the
  // decomposed attention at every shape measured (docs/export.md: 2.96x vs 2.71x at 1x16, 2.75x vs 2.42x at 32x128).
  // MatMulNBits quantises plain MatMuls only: the fused graph's Attention would keep its weights in float.
  ctx.optimize = (options.optimize || (options.quantize.has_value() && !nbits)) && !arch->is_encoder_decoder();
  ctx.quantize = options.quantize.has_value();
  std::int64_t total_layers = cfg.get<std::int64_t>("num_hidden_layers", cfg.get<std::int64_t>("n_layers", 1));
  ctx.on_progress = [&](const std::string& m) {
    // layer i/n -> fraction in [0.1, 0.85]
    double frac = 0.5;
    auto slash = m.find('/');
    auto sp = m.find(' ');
    if (slash != std::string::npos && sp != std::string::npos) {
      double i = std::atof(m.substr(sp + 1, slash - sp - 1).c_str());
      frac = total_layers > 0 ? i / static_cast<double>(total_layers) : 0.5;
    }
    report(0.1 + 0.75 * frac, "building " + m);
  };

  ctx.model_dir = model_dir;
  if (arch->is_encoder_decoder()) {
    if (options.optimize)
      throw UnsupportedError("--optimize is not available for " + task +
                             " exports yet (export without it; --quantize works on the plain graph)");
    const bool with_past = task.size() > 10 && task.compare(task.size() - 10, 10, "-with-past") == 0;
    if (decoder_file == DecoderFile::Model)
      throw InvalidArgument("a " + task + " export of model_type '" + cfg.model_type() +
                            "' has encoder_model.onnx and decoder files, not model.onnx");
    if (decoder_file == DecoderFile::DecoderWithPast && !with_past)
      throw InvalidArgument("decoder_with_past_model.onnx belongs to " + task + "-with-past exports, not " + task);
    ctx.decoder.encoder = decoder_file == DecoderFile::Encoder;
    ctx.decoder.position_ids = false;
    ctx.decoder.past_inputs = decoder_file == DecoderFile::DecoderWithPast;
    ctx.decoder.present_outputs = with_past && decoder_file != DecoderFile::Encoder;
  } else if (is_text_generation(task)) {
    if (options.optimize && cfg.model_type() != "llama")
      throw UnsupportedError("--optimize is not available for " + task + " exports of model_type '" + cfg.model_type() +
                             "' yet (llama only; export without it: --quantize int8 works on the plain graph)");
    ctx.decoder.fused = options.optimize;
    const bool with_past = task == "text-generation-with-past";
    if (decoder_file == DecoderFile::DecoderWithPast && !with_past)
      throw InvalidArgument("decoder_with_past_model.onnx is a text-generation-with-past graph, not " + task);
    ctx.decoder.position_ids = decoder_file == DecoderFile::Model;
    ctx.decoder.past_inputs = with_past && decoder_file != DecoderFile::Decoder;
    ctx.decoder.present_outputs = with_past;
  } else if (decoder_file != DecoderFile::Model) {
    throw InvalidArgument(std::string(decoder_file_name(decoder_file)) + " is a text-generation graph, not " + task);
  }

  BuiltModel out;
  std::vector<std::pair<std::string, std::string>> renames;  // value -> output name
  if (!arch->token_inputs()) {
    if (library == "sentence_transformers")
      throw UnsupportedError("model_type '" + cfg.model_type() + "' has no sentence-transformers form");
    report(0.1, "building " + task + " graph");
    for (auto& o : arch->build_graph(ctx, task)) {
      renames.push_back({o.value, o.name});
      g.add_output(o.name, kFloat, o.dims);
    }
  } else {
    build_text_graph(ctx, *arch, task, library, st, report, renames);
  }
  for (const auto& [value, name] : renames) g.rename_value(value, name);

  out.model = g.finish(producer_version());
  if (ctx.decoder.fused && ctx.decoder.past_inputs && ctx.decoder.present_outputs && ctx.decoder.position_ids) {
    // The fused decoder's model.onnx: every present is a GroupQueryAttention output over the past input, and nothing
    // reads the past's length (seqlens_k and total_sequence_length come from attention_mask), so a runtime may bind
    // one max-length buffer as both (onnxruntime-genai's past_present_share_buffer; ORTModelForCausalLM does when
    // it sees this key). Other consumers (optimum, transformers.js) run it as an ordinary past -> present graph.
    auto* meta = out.model.add_metadata_props();
    meta->set_key("ortformers.past_present_share_buffer");
    meta->set_value("true");
  }
  out.deferred = g.take_deferred();
  out.weights = sd;
  report(0.9, "checking graph");
  // The checker wants a value field in every initializer: deferred ones get a 4-byte placeholder (it does not
  // compare raw_data sizes with dims in ONNX 1.12); materialize / save_model replace it with the real data.
  for (auto& t : *out.model.mutable_graph()->mutable_initializer())
    if (out.deferred.count(t.name()) != 0) t.set_raw_data(std::string(4, '\0'));
  check_and_infer(out.model);
  if (materialize || options.quantize) exporters::materialize(out.model, out.deferred);
  if (options.quantize) {
#ifdef ORTFORMERS_HAVE_QUANTIZE
    std::string how;
    if (nbits) {
      how = describe(*nbits);
      report(0.93, "quantizing (" + how + ")");
      quantize_matmul_nbits(out.model, *nbits);
    } else {
      const QuantizeOptions qopt = quantization_preset(*options.quantize);
      how = describe(qopt);
      report(0.93, "quantizing (dynamic int8, " + how + ")");
      quantize_dynamic_int8(out.model, qopt);
    }
    auto* meta = out.model.add_metadata_props();
    meta->set_key("ortformers.quantization");
    meta->set_value(*options.quantize + ": " + how);
#else
    throw UnsupportedError("--quantize int8 is not available in this build (quantize.hpp missing)");
#endif
  }
  out.model_type = cfg.model_type();
  out.task = task;
  out.library_name = library;
  for (const auto& i : out.model.graph().input()) out.input_names.push_back(i.name());
  for (const auto& o : out.model.graph().output()) out.output_names.push_back(o.name());
  return out;
}

namespace {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) != 0) {}
  ~ProgressBar() { done(); }
  void update(double f, const std::string& msg) {
    if (!enabled_) return;
    const int width = 30;
    const int filled = static_cast<int>(std::clamp(f, 0.0, 1.0) * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r\033[K[%s] %3d%% %s", bar.c_str(), static_cast<int>(f * 100), msg.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (enabled_ && shown_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
      shown_ = false;
    }
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

std::vector<std::string> copy_model_files(const fs::path& from, const fs::path& to, bool sentence_transformers) {
  static const char* files[] = {"config.json",
                                "generation_config.json",
                                "preprocessor_config.json",
                                "tokenizer.json",
                                "tokenizer_config.json",
                                "special_tokens_map.json",
                                "vocab.txt",
                                "vocab.json",
                                "merges.txt",
                                "normalizer.json",
                                "added_tokens.json",
                                "spiece.model",
                                "sentencepiece.bpe.model",
                                "spm.model",
                                "tokenizer.model",
                                "sentence_bert_config.json",
                                "modules.json",
                                "config_sentence_transformers.json"};
  std::vector<std::string> copied;
  for (const char* f : files) {
    const auto src = from / f;
    if (!fs::is_regular_file(src)) continue;  // follows symbolic links
    fs::copy_file(src, to / f, fs::copy_options::overwrite_existing);
    copied.push_back(f);
  }
  if (sentence_transformers || fs::exists(from / "modules.json")) {
    const auto st = read_json_file(from / "modules.json");
    if (st.is_array())
      for (const auto& m : st) {
        const auto path = m.value("path", std::string());
        if (path.empty() || path.find("..") != std::string::npos || fs::path(path).is_absolute()) continue;
        if (!fs::is_directory(from / path)) continue;
        fs::create_directories(to / path);
        fs::copy(from / path, to / path, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        copied.push_back(path + "/");
      }
  }
  return copied;
}

}  // namespace

ExportResult export_model(const fs::path& model_dir_or_id, const fs::path& out_dir, const ExportOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path model_dir = hub::resolve_path_or_id(model_dir_or_id, hub::WeightsFormat::Checkpoint);
  ProgressBar bar(options.progress);
  // One graph (model.onnx), optimum's legacy decoder files for text-generation, or the encoder and decoder files of
  // an encoder-decoder export.
  std::vector<DecoderFile> files{DecoderFile::Model};
  const Architecture* arch = nullptr;
  if (fs::exists(model_dir / "config.json"))
    arch = find_architecture(config::PretrainedConfig::from_pretrained(model_dir).model_type());
  if (arch != nullptr && arch->is_encoder_decoder()) {
    std::string task = normalize_task(options.task);
    if (task == "auto") task = infer_task(model_dir);
    if (options.legacy)
      throw InvalidArgument("the legacy layout (decoder_model.onnx, ...) is for text-generation exports, not " + task +
                            " (whose files are always encoder_model.onnx and the decoders)");
    files = {DecoderFile::Encoder, DecoderFile::Decoder};
    if (task.size() > 10 && task.compare(task.size() - 10, 10, "-with-past") == 0)
      files.push_back(DecoderFile::DecoderWithPast);
  } else if (options.legacy) {
    std::string task = normalize_task(options.task);
    if (task == "auto") task = infer_task(model_dir);
    if (!is_text_generation(task))
      throw InvalidArgument("the legacy layout (decoder_model.onnx, ...) is for text-generation exports, not " + task);
    files = {DecoderFile::Decoder};
    if (task == "text-generation-with-past") files.push_back(DecoderFile::DecoderWithPast);
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw RuntimeError("cannot create output folder " + out_dir.string() + ": " + ec.message());
  ExportResult r;
  r.out_dir = out_dir;
  BuiltModel built;
  // The decoders with and without past are also merged into decoder_model_merged.onnx (as optimum does): both graphs
  // are then kept in memory, materialised.
  const bool merge = std::find(files.begin(), files.end(), DecoderFile::DecoderWithPast) != files.end();
  std::vector<onnx::ModelProto> kept;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const double f0 = static_cast<double>(i) / static_cast<double>(files.size() + (merge ? 1 : 0));
    const double span = 1.0 / static_cast<double>(files.size() + (merge ? 1 : 0));
    built = build_model(
        model_dir, options, [&](double f, const std::string& m) { bar.update(f0 + span * f, m); },
        /*materialize=*/merge && files[i] != DecoderFile::Encoder, files[i]);
    const fs::path path = out_dir / decoder_file_name(files[i]);
    bar.update(f0 + span * 0.95, std::string("writing ") + decoder_file_name(files[i]));
    r.onnx_bytes += save_model(built.model, built.deferred, path);
    r.onnx_paths.push_back(path);
    if (merge && files[i] != DecoderFile::Encoder) kept.push_back(built.model);
  }
  if (merge) {
    bar.update(0.9, "merging the decoders");
    auto merged = merge_decoders(kept[0], kept[1]);
    check_and_infer(merged);
    const fs::path path = out_dir / "decoder_model_merged.onnx";
    r.onnx_bytes += save_model(merged, path);
    r.onnx_paths.push_back(path);
  }
  r.onnx_path = r.onnx_paths.front();
  if (options.copy_tokenizer_files)
    r.copied_files = copy_model_files(model_dir, out_dir, built.library_name == "sentence_transformers");
  bar.update(1.0, "done");
  bar.done();
  r.model_type = built.model_type;
  r.task = built.task;
  r.library_name = built.library_name;
  r.input_names = built.input_names;
  r.output_names = built.output_names;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

namespace {

// 64-bit hash of a byte stream (FNV-1a over 8-byte words, then mixed): a cache key, not a cryptographic digest.
struct Hasher {
  std::uint64_t h = 1469598103934665603ull;
  void bytes(const char* p, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 1099511628211ull;
      h ^= h >> 29;
    }
    for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
  }
  void str(const std::string& s) {
    bytes(s.data(), s.size());
    h = (h ^ 0xff) * 1099511628211ull;
  }
  void file(const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw NotFoundError("cannot read " + f.string());
    std::vector<char> buf(1 << 20);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      bytes(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    str(f.filename().string());
  }
};

}  // namespace

fs::path export_to_cache(const fs::path& model_dir_or_id, const ExportOptions& options) {
  const fs::path model_dir = hub::resolve_path_or_id(model_dir_or_id, hub::WeightsFormat::Checkpoint);
  Hasher h;
  h.file(model_dir / "config.json");
  const auto weights = find_checkpoint_file(model_dir);
  h.file(weights);
  if (weights.extension() == ".json") {  // shards
    const Json index = read_json_file(weights);
    std::set<std::string> shards;
    if (index.contains("weight_map") && index.at("weight_map").is_object())
      for (const auto& [k, v] : index.at("weight_map").items())
        if (v.is_string()) shards.insert(v.get<std::string>());
    for (const auto& s : shards) h.file(model_dir / s);
  }
  for (const char* f : {"modules.json", "1_Pooling/config.json"})
    if (fs::exists(model_dir / f)) h.file(model_dir / f);
  h.str(options.task + "|" + std::to_string(options.opset) + "|" + (options.optimize ? "opt" : "") + "|" +
        options.quantize.value_or("") + "|" + options.library_name + "|" + (options.legacy ? "legacy" : "") + "|" +
        producer_version());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h.h));

  fs::path root;
  if (const char* c = std::getenv("ORTFORMERS_CACHE"); c != nullptr && *c != '\0')
    root = c;
  else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    root = fs::path(home) / ".cache" / "ortformers" / "exports";
  else
    root = fs::temp_directory_path() / "ortformers-exports";
  const auto dir = root / hex;
  if ((fs::exists(dir / "model.onnx") || fs::exists(dir / "decoder_model.onnx")) && fs::exists(dir / ".complete"))
    return dir;
  const auto tmp = root / (std::string(hex) + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  export_model(model_dir, tmp, options);
  write_text_file(tmp / ".complete", model_dir.string() + "\n");
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) {
    // Another process may have finished the same export first; use whichever is complete.
    fs::remove_all(tmp);
    if (!fs::exists(dir / ".complete"))
      throw RuntimeError("cannot move the export into " + dir.string() + ": " + ec.message());
  }
  return dir;
}

}  // namespace ortformers::exporters
