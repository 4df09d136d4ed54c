// OpenAI's POST /v1/audio/transcriptions on a Whisper model, through the generation scheduler: the multipart body is
// parsed on a network thread; on a worker (engine.post) the file is decoded as the ASR pipeline decodes a file path
// (FFmpeg, mono, resampled to the feature extractor's rate), turned into input_features, and submitted as one
// GenerationRequest whose generation_config carries the request's language as forced_decoder_ids, exactly as
// generate_whisper prepares them (so the text equals the pipeline's). The scheduler runs its encoder once in its
// cohort and batches its decoder rows with the other requests' rows. The answer is OpenAI's JSON {"text"}, the bare
// text, or server-sent events transcript.text.delta / transcript.text.done.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "server/api/api.hpp"
#include "server/api/transcription_request.hpp"
#include "server/engine/generation_scheduler.hpp"
#include "server/errors.hpp"

namespace ortformers::server {

namespace {
std::string sse_event(const Json& j) {
  return "data: " + j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}
Json openai_error(const std::string& message, const char* type) {
  return Json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}
}  // namespace

void Api::audio_transcriptions(const CallPtr& call) {
  begin_generation(call, true);
  auto req = std::make_shared<TranscriptionRequest>(
      parse_transcription_request(call->request.content_type, call->request.body));
  call->inputs = 1;
  engine_->post([this, call, req] {
    try {
      const auto& asr = *backend_->speech_recognition();
      const auto& extractor = asr.whisper_feature_extractor();
      const int sr = extractor.sampling_rate();
      std::vector<float> wave;
      try {
        wave = preprocessing::ffmpeg_read(
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(req->file.data()), req->file.size()),
            sr, req->filename.empty() ? "`file`" : "`file` (" + req->filename + ")");
      } catch (const std::exception& e) {
        throw ServerError(ErrorType::Deserialize, std::string("`file` is not audio FFmpeg can decode: ") + e.what());
      }
      if (wave.empty()) throw ServerError(ErrorType::Deserialize, "`file` decodes to no audio samples");
      const double seconds = static_cast<double>(wave.size()) / sr;
      const std::int64_t window = extractor.config().n_samples();
      if (static_cast<std::int64_t>(wave.size()) > window) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f", seconds);
        throw ServerError(ErrorType::Validation,
                          "the audio is " + std::string(buf) + " s long; /v1/audio/transcriptions takes at most " +
                              std::to_string(extractor.config().chunk_length) +
                              " s (one Whisper window). Longer audio: POST / with parameters.chunk_length_s (the "
                              "ASR pipeline's long-form chunking)");
      }
      // The request's generation config: the model's, with `language` (and task transcribe) made forced_decoder_ids
      // by transformers 4.31's rules; without `language` config.json's forced ids apply, as in the pipeline.
      generation::WhisperGenerateArgs args;
      if (req->language) {
        args.language = *req->language;
        args.task = "transcribe";
      }
      generation::WhisperGeneration prep;
      try {
        prep = generation::prepare_whisper_generation(backend_->generation_config(),
                                                      asr.whisper_model().config_forced_decoder_ids(), args);
      } catch (const std::exception& e) {
        throw ServerError(ErrorType::Deserialize, std::string("`language`: ") + e.what());
      }
      auto g = std::make_shared<GenerationRequest>();
      try {
        preprocessing::WhisperFeatureOptions fo;
        fo.sampling_rate = sr;  // as the pipeline calls it: padded / cut to the 30 s window
        const TensorMap features = extractor(wave, fo);
        g->input_features = features.at("input_features");
        if (g->input_features.dtype() != DType::Float32) g->input_features = g->input_features.to(DType::Float32);
      } catch (const std::exception& e) {
        throw ServerError(ErrorType::Backend, std::string("feature extraction failed: ") + e.what());
      }
      g->encoder_tokens = static_cast<std::size_t>(asr.whisper_model().max_source_positions());
      g->generation_config = std::make_shared<const generation::GenerationConfig>(std::move(prep.config));
      g->params.do_sample = req->temperature > 0;
      if (g->params.do_sample) g->params.temperature = req->temperature;
      g->params.logprobs = false;
      const std::int64_t positions = backend_->generative_model()->max_positions();
      if (req->max_new_tokens) {
        if (positions > 0 && 1 + *req->max_new_tokens > positions)
          throw ServerError(ErrorType::Deserialize,
                            "`max_new_tokens` must be <= " + std::to_string(positions - 1) +
                                " (the decoder's positions). Given: " + std::to_string(*req->max_new_tokens));
        g->params.max_new_tokens = *req->max_new_tokens;
      } else {
        // generate()'s bound: the generation config's max_length (decoder start included), within the positions.
        std::int64_t n = g->generation_config->max_length > 1 ? g->generation_config->max_length - 1 : 447;
        if (positions > 0) n = std::min(n, positions - 1);
        g->params.max_new_tokens = n;
      }
      auto conn = call->request.connection;
      g->cancelled = [conn] { return conn && conn->closed(); };
      const std::int64_t usage_seconds = static_cast<std::int64_t>(std::ceil(seconds));
      if (req->stream) {
        g->on_token = [call](const GeneratedToken& t, bool) {
          if (t.text.empty()) return;
          call->request.connection->write(sse_event(Json{{"type", "transcript.text.delta"}, {"delta", t.text}}));
        };
        g->on_done = [this, call](GenerationResult r) {
          if (r.finish_reason == FinishReason::Cancelled) return end_sse(call, false);
          if (r.finish_reason == FinishReason::Error) {
            call->request.connection->write(
                sse_event(openai_error(r.error.empty() ? "transcription failed" : r.error,
                                       r.overloaded ? "overloaded_error" : "server_error")));
            return end_sse(call, false);
          }
          call->request.connection->write(
              sse_event(Json{{"type", "transcript.text.done"}, {"text", r.generated_text}}));
          end_sse(call, true);
        };
        scheduler_->check(*g);  // 422 / 429 as a status, before the stream's header
        begin_sse(call);
        try {
          scheduler_->submit(g);
        } catch (const ServerError& e) {
          call->request.connection->write(sse_event(
              openai_error(e.what(), e.type == ErrorType::Overloaded ? "rate_limit_error" : "invalid_request_error")));
          end_sse(call, false);
        }
        return;
      }
      const auto format = req->response_format;
      g->on_done = [this, call, format, usage_seconds](GenerationResult r) {
        if (r.finish_reason == FinishReason::Error)
          return respond_error(call, std::make_exception_ptr(ServerError(
                                         r.overloaded ? ErrorType::Unhealthy : ErrorType::Backend, r.error)));
        if (r.finish_reason == FinishReason::Cancelled)
          return respond_error(call, std::make_exception_ptr(ServerError(ErrorType::Backend, "cancelled")));
        if (format == TranscriptionFormat::Text) {
          http::Response out;
          out.content_type = "text/plain; charset=utf-8";
          out.body = r.generated_text;
          return respond(call, std::move(out));
        }
        respond_json(call,
                     Json{{"text", r.generated_text}, {"usage", {{"type", "duration"}, {"seconds", usage_seconds}}}});
      };
      scheduler_->submit(g);
    } catch (...) {
      respond_error(call, std::current_exception());
    }
  });
}

}  // namespace ortformers::server
