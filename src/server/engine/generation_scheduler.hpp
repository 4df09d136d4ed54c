#pragma once
// Continuous batching for generative models (TGI's router + batcher, llama.cpp's server slots): one scheduler thread
// owns the running batch of a GenerativeModel. At every step it
//   1. retires rows whose client went away (cancelled) before spending a step on them,
//   2. admits waiting requests while the token budget allows (each row reserves prompt + max_new_tokens of KV cache,
//      --max-batch-tokens in all; --max-batch-requests rows at most) into the prefill queue,
//   3. prefills (chunked prefill, as TGI's --max-batch-prefill-tokens, vLLM's and llama.cpp's): the queued prompts,
//      oldest first, each in its own state, at most max_batch_prefill_tokens prompt tokens in the step while any
//      row is running (so a running row waits at most that many prompt tokens between two of its tokens; a prompt
//      longer than that is prefilled in chunks over several steps, each chunk continuing its cache); with no row
//      running, or at least waiting_served_ratio prompts per running row (a burst), the prompts run whole. A prompt
//      done appends its state to the running one (DecoderStep::append_rows: left-padded, masked, so every row's logits
//      are those of its solo run),
//   4. runs one decode step for every running row, chooses each row's token with its own TokenChooser, streams it,
//   5. retires finished rows at once (eos, max_new_tokens, stop string, the model's last position) and drops the
//      left padding no remaining row needs.
// Rows of graphs that cannot left-pad (no position_ids input) run in groups of equal past length instead.
// Encoder-decoder models (T5, BART: optimum's decoders take no decoder attention mask, so rows of different decoder
// lengths cannot share a batch) run in cohorts: the requests admitted at one step form one group, one DecoderStep
// from GenerativeModel::start over their encoder inputs (right-padded, with the encoder attention mask), every row
// starting at the decoder start token; the scheduler steps every cohort each iteration, rows leave a cohort with
// select_rows when they finish or are cancelled, and an empty cohort is dropped. Whisper rows (a request with
// input_features instead of a prompt) form cohorts the same way, their features stacked into one encoder batch; each
// row's TokenChooser takes its request's generation_config (its language / task forced_decoder_ids).
// Requests are refused with ServerError Overloaded (429) when the waiting requests already hold a whole budget.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/models/decoder_step.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "server/engine/generation_request.hpp"
#include "server/metrics.hpp"

namespace ortformers::server {

struct SchedulerOptions {
  std::size_t max_batch_total_tokens = 16384;  // KV tokens (prompt + max_new_tokens per row) of the running batch
  std::size_t max_batch_requests = 256;        // rows of the running batch
  // Prompt tokens prefilled per step while rows are running when the step begins (chunked prefill; 0 = no limit:
  // every admitted prompt whole, in the step that admits it; with no row running, the prompts admitted run whole
  // whatever the limit). Decoder-only models; encoder-decoder cohorts start whole.
  std::size_t max_batch_prefill_tokens = 64;
  // TGI's --waiting-served-ratio: when the prompts to prefill number at least this many times the running rows, the
  // step prefills them whole (the running rows wait once) instead of in chunks. 0: always chunk.
  double waiting_served_ratio = 1.2;
  std::vector<std::int64_t> eos_token_id;  // generation_config.json's, else the tokenizer's eos
  std::int64_t max_positions = 0;          // the model's (decoder's) positions (0 = unknown)
  // The model's generation_config: its constraints (forced BOS / EOS, min_length, no_repeat_ngram_size, ...) apply to
  // every request as generate() applies them; encoder-decoder models also take decoder_start_token_id (else
  // bos_token_id) and pad_token_id (the encoder inputs of a cohort are right-padded with it) from it.
  generation::GenerationConfig generation_config{};
};

class GenerationScheduler {
 public:
  GenerationScheduler(const models::GenerativeModel& model, const tokenizers::PreTrainedTokenizer& tokenizer,
                      SchedulerOptions options, Metrics& metrics);
  ~GenerationScheduler();
  GenerationScheduler(const GenerationScheduler&) = delete;
  GenerationScheduler& operator=(const GenerationScheduler&) = delete;

  // Queues a request. ServerError Overloaded when the queue's token budget is full, Validation when it could
  // never run (prompt + max_new_tokens over the budget); Unhealthy after stop().
  void submit(std::shared_ptr<GenerationRequest> request);
  // The checks of submit without queuing (a stream's answer begins only once they pass; submit still decides).
  void check(const GenerationRequest& request) const;
  // Ends every request (on_done with FinishReason::Error, overloaded = true) and joins the thread.
  void stop();

  const SchedulerOptions& options() const noexcept { return options_; }
  std::size_t queue_size() const;
  std::size_t batch_size() const noexcept { return running_.load(); }

 private:
  struct Row;
  struct Group;
  void loop();
  void admit(std::vector<std::shared_ptr<GenerationRequest>>& incoming);
  void admit_cohort(std::vector<std::unique_ptr<Row>>& rows);
  // Runs this step's prefill chunks of the queued prompts (step 3 above).
  void prefill();
  // A row whose prompt is prefilled (its first token emitted) joins a running group with its state, or starts one.
  void join(std::unique_ptr<Row> row, std::unique_ptr<models::DecoderStep> state);
  std::size_t running_rows() const;  // rows running, not done
  void decode(Group& group);
  // Emits `token` for `row`; true when the row is finished (on_done called).
  bool emit(Row& row, GeneratedToken token);
  void finish(Row& row, FinishReason reason, const std::string& error = "");
  void publish_gauges();

  const models::GenerativeModel& model_;
  const tokenizers::PreTrainedTokenizer& tokenizer_;
  SchedulerOptions options_;
  Metrics& metrics_;
  std::vector<std::int64_t> special_ids_;
  bool encoder_decoder_ = false;
  std::int64_t decoder_start_ = 0, pad_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<GenerationRequest>> waiting_;
  std::size_t waiting_tokens_ = 0;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Group>> groups_;   // scheduler thread only
  std::deque<std::unique_ptr<Row>> prefilling_;  // scheduler thread only: admitted, prompt not yet all prefilled
  std::size_t reserved_tokens_ = 0;              // scheduler thread only
  std::atomic<std::size_t> running_{0};
  std::thread thread_;
};

}  // namespace ortformers::server
