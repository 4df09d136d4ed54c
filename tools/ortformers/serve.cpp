// ortformers serve --model ID_OR_DIR [options]: flags -> ServerOptions, then ortformers::server::serve.
// Flag names and environment variables as text-embeddings-inference's router (MODEL_ID, PORT, MAX_BATCH_TOKENS, ...).
#include <optional>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ortformers/export/quantize.hpp"
#include "ortformers/server/server.hpp"

namespace {

struct ServeArgs {
  ortformers::server::ServerOptions o;
  std::size_t max_batch_requests = 0;
  long long header_timeout_ms = 10000;
  long long drain_timeout_ms = 30000;
  long long max_queue_time_ms = 750;
  bool no_ort_cache = false;
};

void register_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto& o = a->o;
  auto* cmd = app.add_subcommand("serve", "HTTP inference server: TEI- and OpenAI-compatible routes (docs/serving.md)");
  cmd->add_option("--model,--model-id", o.model_id, "model folder or hub id")->envname("MODEL_ID")->required();
  cmd->add_option("--revision", o.revision, "hub revision")->envname("REVISION");
  cmd->add_option("--task", o.task, "pipeline task (default: detected from the folder)")->envname("TASK");
  cmd->add_option("--pooling", o.pooling, "cls|mean|max|mean_sqrt_len|weightedmean|lasttoken, or splade (MaskedLM)")
      ->envname("POOLING");
  cmd->add_option("--host,--hostname", o.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "port (0 = ephemeral)")->envname("PORT")->capture_default_str();
  cmd->add_option("--max-concurrent-requests", o.max_concurrent_requests, "in-flight requests before 429")
      ->envname("MAX_CONCURRENT_REQUESTS")
      ->capture_default_str();
  cmd->add_option("--max-queue-time-ms", a->max_queue_time_ms,
                  "admit a request only while the queue's wait (estimated from the measured throughput, and the oldest "
                  "request's) is within this, else 429; a model batch holds at most half of it (0 = off)")
      ->envname("MAX_QUEUE_TIME_MS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-batch-tokens", o.max_batch_tokens, "padded tokens per model batch")
      ->envname("MAX_BATCH_TOKENS")
      ->capture_default_str();
  cmd->add_option("--max-batch-requests", a->max_batch_requests, "sequences per model batch (default: no limit)")
      ->envname("MAX_BATCH_REQUESTS");
  cmd->add_option("--max-batch-prefill-tokens", o.max_batch_prefill_tokens,
                  "generative models: prompt tokens prefilled per step while rows are running (longer prompts are "
                  "prefilled in chunks over several steps; 0 = no limit)")
      ->envname("MAX_BATCH_PREFILL_TOKENS")
      ->capture_default_str();
  cmd->add_option("--waiting-served-ratio", o.waiting_served_ratio,
                  "generative models: when the prompts waiting for prefill are at least this many times the running "
                  "rows, prefill them whole in one step instead of in chunks (0 = always chunk)")
      ->envname("WAITING_SERVED_RATIO")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-client-batch-size", o.max_client_batch_size, "inputs per request")
      ->envname("MAX_CLIENT_BATCH_SIZE")
      ->capture_default_str();
  cmd->add_flag("--auto-truncate", o.auto_truncate, "truncate inputs longer than the model accepts")
      ->envname("AUTO_TRUNCATE");
  cmd->add_option("--payload-limit", o.payload_limit, "bytes of a request body")
      ->envname("PAYLOAD_LIMIT")
      ->capture_default_str();
  cmd->add_option("--api-key", o.api_key, "require Authorization: Bearer KEY")->envname("API_KEY");
  cmd->add_option("--served-model-name", o.served_model_name, "model name in /info and /v1/embeddings")
      ->envname("SERVED_MODEL_NAME");
  cmd->add_option("--tokenization-workers", o.tokenization_workers, "tokenizer threads (default: cores)")
      ->envname("TOKENIZATION_WORKERS");
  cmd->add_flag("--json-output", o.json_output, "one JSON log line per request")->envname("JSON_OUTPUT");
  cmd->add_option("--threads", o.threads, "intra-op threads of the ONNX Runtime session (0 = ORT default)")
      ->envname("THREADS");
  cmd->add_flag("--export", o.export_model, "export the PyTorch checkpoint natively first (cached)");
  cmd->add_option("--file-name", o.file_name, "ONNX file inside the model folder");
  cmd->add_option("--chat-template", o.chat_template,
                  "a Jinja chat template (file or text) for /v1/chat/completions instead of the tokenizer's");
  cmd->add_option("--quantize", o.quantize,
                  "export + serve the dynamic int8 graph (int8, avx2, avx512, avx512_vnni, arm64)")
      ->check(CLI::IsMember(ortformers::exporters::quantization_preset_names()));
  cmd->add_option("--io-threads", o.io_threads, "network threads")->capture_default_str();
  cmd->add_option("--header-timeout-ms", a->header_timeout_ms, "deadline for a request header")->capture_default_str();
  cmd->add_option("--drain-timeout-ms", a->drain_timeout_ms, "SIGTERM: time given to in-flight requests")
      ->capture_default_str();
  cmd->add_flag("--no-ort-cache", a->no_ort_cache, "do not keep/use the optimised graph in ONNX Runtime format");
  ortformers::cli::command_actions()["serve"] = [a] {
    auto opts = a->o;
    if (a->max_batch_requests > 0) opts.max_batch_requests = a->max_batch_requests;
    opts.header_timeout = std::chrono::milliseconds(a->header_timeout_ms);
    opts.drain_timeout = std::chrono::milliseconds(a->drain_timeout_ms);
    opts.max_queue_time = std::chrono::milliseconds(a->max_queue_time_ms);
    opts.ort_cache = !a->no_ort_cache;
    // A folder with only PyTorch weights (and no --export/--quantize asking for it explicitly): its native export
    // (cached) for the task its config implies, as `info` shows it; the server then loads that folder.
    if (!opts.export_model && opts.quantize.empty()) {
      opts.model_id = ortformers::cli::exported_if_checkpoint_only(opts.model_id, opts.file_name);
    }
    return ortformers::server::serve(opts);
  };
}

}  // namespace

ORTFORMERS_REGISTER_COMMAND(register_serve);
