#pragma once
// ServerOptions: every setting of `ortformers serve`, named as text-embeddings-inference's router names its flags.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace ortformers::server {

struct ServerOptions {
  // Model
  std::string model_id;           // --model-id / MODEL_ID: a folder or a hub id
  std::string revision = "main";  // --revision
  std::string task;               // --task: "" = detected from the folder (as `ortformers info`)
  std::string pooling;            // --pooling: cls|mean|max|... ("" = the folder's config); splade for MaskedLM
  std::string file_name;          // --file-name: ONNX file inside the folder
  bool export_model = false;      // --export: export the PyTorch checkpoint natively first
  std::string quantize;           // --quantize int8: export + serve the int8 graph
  int threads = 0;                // --threads: intra-op threads of the ONNX Runtime session (0 = ORT default)
  std::string served_model_name;  // --served-model-name ("" = model_id)
  bool ort_cache = true;          // keep the optimised graph in ORT format, as `ortformers run`
  // --chat-template: a Jinja file (or the template itself) for /v1/chat/completions when the tokenizer has none
  // or another one is wanted (vLLM's flag).
  std::string chat_template;

  // Router
  std::string host = "0.0.0.0";  // --hostname / HOSTNAME
  int port = 8080;               // --port / PORT (0 = an ephemeral port, see Server::port())
  std::size_t max_concurrent_requests = 512;
  // --max-queue-time-ms: a request is admitted only while the queue's estimated wait (requests waiting x the
  // batcher's measured model time per request) and the oldest waiting sequence's wait are within this budget, else
  // 429 at once; one model batch holds at most half of it. 0 = admission by count only.
  std::chrono::milliseconds max_queue_time{750};
  std::size_t max_batch_tokens = 16384;  // padded tokens per model batch (batch size x longest sequence)
  std::optional<std::size_t> max_batch_requests;
  // --max-batch-prefill-tokens (TGI's flag, with its chunked-prefill meaning): generative models prefill at most this
  // many prompt tokens per scheduler step while other rows are running, so a running row waits at most that much
  // prefill between two of its tokens; longer prompts are prefilled in chunks over several steps. 0 = no limit.
  std::size_t max_batch_prefill_tokens = 64;
  // --waiting-served-ratio (TGI's flag): when the prompts waiting for prefill number at least this many times the
  // rows running, they are prefilled whole in one step (the running rows wait once, as TGI pauses its batch for a
  // prefill) instead of in chunks. 0 = always chunk.
  double waiting_served_ratio = 1.2;
  std::size_t max_client_batch_size = 32;  // inputs per request
  bool auto_truncate = false;              // truncate inputs that are too long instead of refusing them
  std::size_t payload_limit = 2000000;     // bytes of a request body
  std::string api_key;                     // bearer token required when set
  std::size_t tokenization_workers = 0;    // 0 = number of cores
  bool json_output = false;                // one JSON log line per request instead of plain text

  // HTTP front
  std::size_t io_threads = 2;                           // Asio threads serving every connection
  std::chrono::milliseconds header_timeout{10000};      // whole header must arrive within this (slowloris)
  std::chrono::milliseconds keep_alive_timeout{60000};  // an idle keep-alive connection is closed after this
  std::chrono::milliseconds drain_timeout{30000};       // graceful stop: in-flight requests get this long
  std::chrono::microseconds batch_wait{0};              // extra wait for a fuller batch (0 = continuous)
};

}  // namespace ortformers::server
