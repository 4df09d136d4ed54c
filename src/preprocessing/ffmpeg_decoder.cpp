// Audio files decoded as transformers' ffmpeg_read does (`ffmpeg -i pipe:0 -ac 1 -ar <rate> -f f32le pipe:1`), with
// FFmpeg's own libraries: libavformat demuxes (from memory), libavcodec decodes (the decoder the ffmpeg CLI picks
// for the codec, encoder delay / priming samples dropped as it does), and libswresample converts to mono float32 at
// the target rate with the options the CLI's auto-inserted aresample filter uses (none: swr defaults), flushed at
// the end as that filter flushes.
#include <mutex>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace ortformers::preprocessing {

namespace {

constexpr std::size_t kMaxOutputSamples = std::size_t{1} << 30;

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct MemoryInput {
  const std::uint8_t* data;
  std::int64_t size;
  std::int64_t pos;
};

int read_packet(void* opaque, std::uint8_t* buf, int buf_size) {
  auto* m = static_cast<MemoryInput*>(opaque);
  const std::int64_t n = std::min<std::int64_t>(buf_size, m->size - m->pos);
  if (n <= 0) return AVERROR_EOF;
  std::copy(m->data + m->pos, m->data + m->pos + n, buf);
  m->pos += n;
  return static_cast<int>(n);
}

std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
  auto* m = static_cast<MemoryInput*>(opaque);
  if (whence & AVSEEK_SIZE) return m->size;
  const std::int64_t base = (whence & ~AVSEEK_FORCE) == SEEK_SET   ? 0
                            : (whence & ~AVSEEK_FORCE) == SEEK_CUR ? m->pos
                                                                   : m->size;
  const std::int64_t p = base + offset;
  if (p < 0 || p > m->size) return AVERROR(EINVAL);
  m->pos = p;
  return p;
}

// RAII holders for the FFmpeg objects.
struct Resources {
  AVIOContext* io = nullptr;
  AVFormatContext* fmt = nullptr;
  AVCodecContext* dec = nullptr;
  SwrContext* swr = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* frame = nullptr;
  ~Resources() {
    swr_free(&swr);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
    av_packet_free(&pkt);
    av_frame_free(&frame);
  }
};

void quiet_ffmpeg_logs() {
  // transformers runs ffmpeg with -loglevel quiet; respect a level the application set itself.
  static std::once_flag once;
  std::call_once(once, [] {
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_QUIET);
  });
}

}  // namespace

std::vector<float> ffmpeg_read(std::span<const std::uint8_t> bytes, int sampling_rate, const std::string& source) {
  quiet_ffmpeg_logs();
  if (sampling_rate < 0) throw InvalidArgument("ffmpeg_read: sampling_rate must be positive (or 0 to keep the rate)");
  const std::string malformed =
      "audio " + source +
      ": Soundfile is either not in the correct format or is malformed. Ensure that the soundfile has a valid audio "
      "file extension (e.g. wav, flac or mp3) and is not corrupted";
  if (bytes.empty()) throw FileFormatError(malformed + " (empty file)");
  Resources r;
  MemoryInput mem{bytes.data(), static_cast<std::int64_t>(bytes.size()), 0};
  constexpr int kIoBuffer = 1 << 16;
  auto* io_buf = static_cast<std::uint8_t*>(av_malloc(kIoBuffer));
  if (!io_buf) throw RuntimeError("ffmpeg_read: out of memory");
  r.io = avio_alloc_context(io_buf, kIoBuffer, 0, &mem, read_packet, nullptr, seek);
  if (!r.io) {
    av_free(io_buf);
    throw RuntimeError("ffmpeg_read: out of memory");
  }
  r.fmt = avformat_alloc_context();
  if (!r.fmt) throw RuntimeError("ffmpeg_read: out of memory");
  r.fmt->pb = r.io;
  if (int e = avformat_open_input(&r.fmt, nullptr, nullptr, nullptr); e < 0) {
    throw FileFormatError(malformed + " (" + av_error(e) + ")");
  }
  if (int e = avformat_find_stream_info(r.fmt, nullptr); e < 0) {
    throw FileFormatError(malformed + " (" + av_error(e) + ")");
  }
  const int stream = av_find_best_stream(r.fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (stream < 0) throw FileFormatError(malformed + " (no audio stream)");
  const AVCodecParameters* par = r.fmt->streams[stream]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (!codec) {
    throw FileFormatError(malformed + " (no decoder for codec '" + avcodec_get_name(par->codec_id) + "')");
  }
  r.dec = avcodec_alloc_context3(codec);
  if (!r.dec) throw RuntimeError("ffmpeg_read: out of memory");
  if (int e = avcodec_parameters_to_context(r.dec, par); e < 0)
    throw FileFormatError(malformed + " (" + av_error(e) + ")");
  r.dec->pkt_timebase = r.fmt->streams[stream]->time_base;
  if (int e = avcodec_open2(r.dec, codec, nullptr); e < 0) throw FileFormatError(malformed + " (" + av_error(e) + ")");
  r.pkt = av_packet_alloc();
  r.frame = av_frame_alloc();
  if (!r.pkt || !r.frame) throw RuntimeError("ffmpeg_read: out of memory");

  std::vector<float> out;
  AVChannelLayout in_layout{};
  int in_format = -1, in_rate = 0, out_rate = 0;
  // Converts `n` input samples (nullptr: drain the resampler) and appends the output.
  auto convert = [&](const std::uint8_t** in, int n) {
    for (;;) {
      const int cap = static_cast<int>(swr_get_out_samples(r.swr, n)) + 256;
      const std::size_t old = out.size();
      if (old + static_cast<std::size_t>(cap) > kMaxOutputSamples) {
        throw InvalidArgument("audio " + source + ": more than 2^30 samples after decoding");
      }
      out.resize(old + static_cast<std::size_t>(cap));
      auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + old);
      const int got = swr_convert(r.swr, &dst, cap, in, n);
      if (got < 0) throw FileFormatError(malformed + " (resampling: " + av_error(got) + ")");
      out.resize(old + static_cast<std::size_t>(got));
      if (in != nullptr || got == 0) return;  // a flush repeats until the resampler is empty
    }
  };
  auto setup_resampler = [&](const AVFrame* f) {
    AVChannelLayout layout{};
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&layout, f->ch_layout.nb_channels);  // as the ffmpeg CLI's buffer source
    } else if (av_channel_layout_copy(&layout, &f->ch_layout) < 0) {
      throw RuntimeError("ffmpeg_read: out of memory");
    }
    const bool same = r.swr && in_format == f->format && in_rate == f->sample_rate &&
                      av_channel_layout_compare(&layout, &in_layout) == 0;
    if (same) {
      av_channel_layout_uninit(&layout);
      return;
    }
    if (r.swr) convert(nullptr, 0);  // parameters changed mid-stream: drain, then reconfigure (as the CLI does)
    swr_free(&r.swr);
    av_channel_layout_uninit(&in_layout);
    in_layout = layout;
    in_format = f->format;
    in_rate = f->sample_rate;
    if (in_rate <= 0) throw FileFormatError(malformed + " (sample rate " + std::to_string(in_rate) + ")");
    out_rate = sampling_rate > 0 ? sampling_rate : in_rate;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    if (int e = swr_alloc_set_opts2(&r.swr, &mono, AV_SAMPLE_FMT_FLT, out_rate, &in_layout,
                                    static_cast<AVSampleFormat>(in_format), in_rate, 0, nullptr);
        e < 0) {
      throw FileFormatError(malformed + " (resampler: " + av_error(e) + ")");
    }
    if (int e = swr_init(r.swr); e < 0) throw FileFormatError(malformed + " (resampler: " + av_error(e) + ")");
  };
  auto receive = [&]() {
    for (;;) {
      const int e = avcodec_receive_frame(r.dec, r.frame);
      if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return;
      if (e < 0) throw FileFormatError(malformed + " (" + av_error(e) + ")");
      if (r.frame->nb_samples > 0) {
        setup_resampler(r.frame);
        convert(const_cast<const std::uint8_t**>(r.frame->extended_data), r.frame->nb_samples);
      }
      av_frame_unref(r.frame);
    }
  };
  try {
    for (;;) {
      const int e = av_read_frame(r.fmt, r.pkt);
      if (e == AVERROR_EOF) break;
      if (e < 0) break;  // a truncated file: keep what was decoded, as the CLI does
      if (r.pkt->stream_index == stream) {
        const int s = avcodec_send_packet(r.dec, r.pkt);
        // Corrupt packets are skipped (the CLI logs and goes on); anything else is fatal.
        if (s < 0 && s != AVERROR_INVALIDDATA && s != AVERROR(EAGAIN)) {
          av_packet_unref(r.pkt);
          throw FileFormatError(malformed + " (" + av_error(s) + ")");
        }
        receive();
      }
      av_packet_unref(r.pkt);
    }
    avcodec_send_packet(r.dec, nullptr);
    receive();
    if (r.swr) convert(nullptr, 0);
  } catch (...) {
    av_channel_layout_uninit(&in_layout);
    throw;
  }
  av_channel_layout_uninit(&in_layout);
  // A readable file without samples: transformers' ffmpeg_read raises ValueError (InvalidArgument here) with this text.
  if (out.empty()) throw InvalidArgument(malformed + " (no audio samples)");
  return out;
}

}  // namespace ortformers::preprocessing
