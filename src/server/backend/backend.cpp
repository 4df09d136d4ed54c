#include "server/backend/backend.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ortformers/core/error.hpp"
#include "ortformers/export/export.hpp"
#include "ortformers/models/probe.hpp"
#include "ortformers/pipelines/feature_extraction.hpp"
#include "ortformers/pipelines/sentence_embeddings.hpp"
#include "ortformers/pipelines/text2text_generation.hpp"
#include "ortformers/pipelines/text_generation.hpp"
#include "ortformers/runtime/session.hpp"

namespace ortformers::server {

namespace fs = std::filesystem;

const char* to_string(ModelKind kind) noexcept {
  switch (kind) {
    case ModelKind::Embedding: return "embedding";
    case ModelKind::Sparse: return "embedding";
    case ModelKind::Classifier: return "classifier";
    case ModelKind::Reranker: return "reranker";
    case ModelKind::Pipeline: return "pipeline";
  }
  return "pipeline";
}

namespace {

models::ModelOptions model_options(const ServerOptions& o) {
  models::ModelOptions mo;
  mo.file_name = o.file_name;
  mo.export_model = o.export_model;
  mo.revision = o.revision;
  mo.session.intra_op_num_threads = o.threads;
  const char* env_cache = std::getenv("ORTFORMERS_ORT_CACHE");
  if (o.ort_cache && !(env_cache && std::string(env_cache) == "0")) {
    mo.session.ort_format_cache_dir = runtime::default_ort_cache_dir();
  }
  return mo;
}

bool is_embedding_task(const std::string& task) {
  return task == "sentence-embeddings" || task == "feature-extraction" || task == "sentence-similarity";
}

}  // namespace

Backend::Backend(const ServerOptions& options) {
  if (options.model_id.empty()) throw InvalidArgument("serve: no model given (--model-id or MODEL_ID)");
  models::ModelOptions mo = model_options(options);
  std::string model = options.model_id;
  if (!options.quantize.empty()) {
    if (options.quantize != "int8")
      throw InvalidArgument("serve: --quantize must be int8, got '" + options.quantize + "'");
    if (!fs::is_directory(model)) throw InvalidArgument("serve: --quantize needs a local checkpoint folder: " + model);
    exporters::ExportOptions eo;
    eo.quantize = "int8";
    model = exporters::export_to_cache(model, eo).string();
    mo.export_model = false;
    mo.file_name.clear();
  }
  // The task: given, or detected from the folder as `ortformers info` does.
  task_ = options.task;
  if (task_.empty()) {
    models::ModelOptions probe_options = mo;
    if (probe_options.file_name.empty()) probe_options.file_name = models::probe_file_name(model);
    auto probe = models::ORTModelForCustomTasks::from_pretrained(model, probe_options);
    task_ = pipelines::detect_task(probe);
  }
  if (task_ == "feature-extraction") task_ = "sentence-embeddings";  // TEI serves a base model as an embedding model
  pipelines::PipelineOptions po;
  po.model = mo;
  po.output_dir = fs::temp_directory_path();
  pipeline_ = pipelines::pipeline(task_, model, po);
  const models::ORTModel& m = pipeline_->model();
  model_dir_ = m.model_dir().string();
  for (const auto& i : m.session().inputs()) graph_inputs_.push_back(i.name);

  if (fs::exists(m.model_dir() / "tokenizer.json") || fs::exists(m.model_dir() / "vocab.txt") ||
      fs::exists(m.model_dir() / "vocab.json") || fs::exists(m.model_dir() / "tokenizer_config.json")) {
    try {
      tokenizer_ = tokenizers::AutoTokenizer::from_pretrained(m.model_dir());
      has_tokenizer_ = true;
    } catch (const Error&) {
      has_tokenizer_ = false;  // vision/audio folders: the pipeline has what it needs
    }
  }

  const bool masked_lm = m.session().has_output("logits") && task_ == "fill-mask";
  if (options.pooling == "splade") {
    if (!masked_lm)
      throw InvalidArgument("serve: --pooling splade needs a masked-language model (fill-mask), got task " + task_);
    splade_ = true;
    kind_ = ModelKind::Sparse;
  } else if (is_embedding_task(task_)) {
    // Embeddings are made by the sentence-embeddings pipeline's own path (SentenceEmbeddingsPipeline::embed): the
    // graph's sentence_embedding when it has one, else the folder's Pooling (+ Normalize); --pooling overrides.
    kind_ = ModelKind::Embedding;
    embeddings_ = dynamic_cast<const pipelines::SentenceEmbeddingsPipeline*>(pipeline_.get());
    if (!embeddings_) throw UnsupportedError("serve: task " + task_ + " did not give a sentence-embeddings pipeline");
    if (!options.pooling.empty()) encode_options_.pooling = pipelines::pooling_mode_from_string(options.pooling);
  } else if (task_ == "text-classification" || task_ == "zero-shot-classification") {
    kind_ = m.config().num_labels() == 1 ? ModelKind::Reranker : ModelKind::Classifier;
  } else {
    kind_ = ModelKind::Pipeline;
    if (!options.pooling.empty()) throw InvalidArgument("serve: --pooling does not apply to task " + task_);
    if (const auto* tg = dynamic_cast<const pipelines::TextGenerationPipeline*>(pipeline_.get())) {
      generative_ = dynamic_cast<const models::GenerativeModel*>(&tg->model());
      generation_config_ = tg->generation_config();
    } else if (const auto* t2t = dynamic_cast<const pipelines::Text2TextGenerationPipeline*>(pipeline_.get())) {
      // text2text-generation, summarization, translation (T5, BART): the encoder-decoder scheduler's cohorts.
      generative_ = dynamic_cast<const models::GenerativeModel*>(&t2t->model());
      generation_config_ = t2t->generation_config();
    } else if (const auto* asr = dynamic_cast<const pipelines::AutomaticSpeechRecognitionPipeline*>(pipeline_.get());
               asr && asr->is_whisper()) {
      // Whisper: /v1/audio/transcriptions runs its rows in the scheduler's encoder-decoder cohorts.
      speech_ = asr;
      generative_ = &asr->whisper_model();
      generation_config_ = generation::GenerationConfig::from_pretrained(asr->whisper_model().model_dir());
    }
  }
  st_ = embeddings_ ? embeddings_->st_config() : pipelines::SentenceTransformerConfig::from_pretrained(m.model_dir());
  const auto& st = st_;
  if (kind_ != ModelKind::Pipeline && !has_tokenizer_) {
    throw NotFoundError("serve: no tokenizer files in " + model_dir_);
  }

  // Longest input, as the sentence-embeddings pipeline (sentence-transformers) takes it: sentence_bert_config's
  // max_seq_length, else min(position table, tokenizer model_max_length).
  std::int64_t limit = pipelines::model_max_positions(m.config());
  if (limit <= 0) limit = 512;
  if (has_tokenizer_ && tokenizer_.model_max_length() < static_cast<std::size_t>(limit)) {
    limit = static_cast<std::int64_t>(tokenizer_.model_max_length());
  }
  if (st.max_seq_length > 0) limit = std::min(limit, st.max_seq_length);
  max_input_length_ = static_cast<std::size_t>(limit);

  // Prompts: the given folder's file first (an export cache is keyed by the weights, not by this file).
  fs::path st_json = fs::path(options.model_id) / "config_sentence_transformers.json";
  if (!fs::is_directory(options.model_id) || !fs::exists(st_json))
    st_json = m.model_dir() / "config_sentence_transformers.json";
  if (fs::exists(st_json)) {
    const Json j = read_json_file(st_json);
    if (j.contains("prompts") && j["prompts"].is_object()) {
      for (const auto& [k, v] : j["prompts"].items())
        if (v.is_string()) prompts_[k] = v.get<std::string>();
    }
    if (j.contains("default_prompt_name") && j["default_prompt_name"].is_string()) {
      default_prompt_name_ = j["default_prompt_name"].get<std::string>();
    }
  }
}

std::vector<std::int64_t> Backend::eos_token_ids() const {
  std::vector<std::int64_t> eos = generation_config_.eos_token_id;
  if (eos.empty() && has_tokenizer_) {
    if (auto id = tokenizer_.special_token_id("eos_token")) eos.push_back(*id);
  }
  return eos;
}

const config::PretrainedConfig& Backend::config() const {
  return pipeline_->model().config();
}

std::string Backend::pooling_name() const {
  if (splade_) return "splade";
  if (!embeddings_) return "";
  // Pooled inside the graph: the folder's Pooling config names it when it has one, else only the graph knows.
  if (embeddings_->uses_graph_pooling(encode_options_) && !st_.present) return "sentence_embedding";
  std::string s;
  const std::vector<pipelines::PoolingMode> modes =
      encode_options_.pooling ? std::vector<pipelines::PoolingMode>{*encode_options_.pooling} : st_.pooling.modes;
  for (auto mode : modes) s += std::string(s.empty() ? "" : "+") + pipelines::to_string(mode);
  return s;
}

std::string Backend::model_dtype() const {
  // The dtype of the graph's first float output (float32 for every fixture; float16 exports say so).
  for (const auto& o : pipeline_->model().session().outputs()) {
    if (o.dtype == DType::Float16) return "float16";
    if (o.dtype == DType::BFloat16) return "bfloat16";
  }
  return "float32";
}

std::vector<std::vector<float>> Backend::run(const std::vector<const Sequence*>& batch) {
  std::vector<std::vector<float>> out(batch.size());
  if (batch.empty()) return out;
  std::size_t longest = 0;
  for (const auto* s : batch) longest = std::max(longest, s->ids.size());
  const auto B = static_cast<std::int64_t>(batch.size()), L = static_cast<std::int64_t>(longest);
  const std::int64_t pad_id = tokenizer_.pad_token_id().value_or(0);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(B * L), pad_id), mask(static_cast<std::size_t>(B * L), 0),
      types(static_cast<std::size_t>(B * L), 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const Sequence& s = *batch[static_cast<std::size_t>(b)];
    for (std::size_t t = 0; t < s.ids.size(); ++t) {
      const auto at = static_cast<std::size_t>(b * L) + t;
      ids[at] = s.ids[t];
      mask[at] = 1;
      if (t < s.type_ids.size()) types[at] = s.type_ids[t];
    }
  }
  TensorMap inputs;
  inputs.emplace("input_ids", Tensor::from_vector(std::move(ids), {B, L}));
  inputs.emplace("attention_mask", Tensor::from_vector(std::move(mask), {B, L}));
  if (std::find(graph_inputs_.begin(), graph_inputs_.end(), "token_type_ids") != graph_inputs_.end()) {
    inputs.emplace("token_type_ids", Tensor::from_vector(std::move(types), {B, L}));
  }
  if (kind_ == ModelKind::Embedding) {
    const bool any_tokens =
        std::any_of(batch.begin(), batch.end(), [](auto* s) { return s->output == OutputKind::AllTokens; });
    Tensor hidden, pooled;
    try {
      pooled = embeddings_->embed(inputs, encode_options_, any_tokens ? &hidden : nullptr);
    } catch (const std::exception& e) {
      throw BackendError(std::string("inference failed: ") + e.what());
    }
    const std::int64_t H = any_tokens ? hidden.dim(2) : 0, D = pooled.dim(1);
    for (std::int64_t b = 0; b < B; ++b) {
      const Sequence& s = *batch[static_cast<std::size_t>(b)];
      if (s.output == OutputKind::AllTokens) {
        const float* row = hidden.data<float>() + b * L * H;
        out[static_cast<std::size_t>(b)].assign(row, row + static_cast<std::int64_t>(s.ids.size()) * H);
      } else {
        const float* row = pooled.data<float>() + b * D;
        out[static_cast<std::size_t>(b)].assign(row, row + D);
      }
    }
    return out;
  }
  TensorMap outputs;
  try {
    outputs = pipeline_->model().run(inputs);
  } catch (const std::exception& e) {
    throw BackendError(std::string("inference failed: ") + e.what());
  }
  Tensor logits = outputs.at("logits");
  if (logits.dtype() != DType::Float32) logits = logits.to(DType::Float32);
  const float* l = logits.data<float>();
  if (kind_ == ModelKind::Sparse) {
    const std::int64_t V = logits.dim(2);
    for (std::int64_t b = 0; b < B; ++b) {
      const Sequence& s = *batch[static_cast<std::size_t>(b)];
      std::vector<float> v(static_cast<std::size_t>(V), 0.f);
      for (std::size_t t = 0; t < s.ids.size(); ++t) {
        const float* row = l + (b * L + static_cast<std::int64_t>(t)) * V;
        for (std::int64_t k = 0; k < V; ++k) {
          v[static_cast<std::size_t>(k)] = std::max(v[static_cast<std::size_t>(k)], std::log1p(std::max(row[k], 0.f)));
        }
      }
      out[static_cast<std::size_t>(b)] = std::move(v);
    }
    return out;
  }
  const std::int64_t N = logits.dim(1);
  for (std::int64_t b = 0; b < B; ++b) out[static_cast<std::size_t>(b)].assign(l + b * N, l + (b + 1) * N);
  return out;
}

Json Backend::run_pipeline(const Json& input, const Json& parameters) {
  return pipeline_->call(input, parameters.is_null() ? Json::object() : parameters);
}

}  // namespace ortformers::server
