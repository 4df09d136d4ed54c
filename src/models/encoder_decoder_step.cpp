// The DecoderStep of the encoder-decoder models: the encoder output (kept for the decoder graphs that take it),
// the cross-attention key/values computed at the first step and reused, and the self-attention cache grown by one
// token per step (the presents of a run are the next run's past, as ORTModelForCausalLM without IO binding).
// select_rows gathers rows of all of them (beam search's reorder_cache, and the expansion to batch * num_beams
// rows before the first step). use_cache = false re-runs decoder_model.onnx over every decoder token.
#include "encoder_decoder_graphs.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace {

class EncoderDecoderStep final : public DecoderStep {
 public:
  EncoderDecoderStep(std::shared_ptr<const ORTModelForConditionalGeneration::Graphs> graphs, EncoderOutput encoder)
      : g_(std::move(graphs)), encoder_(std::move(encoder)), rows_(encoder_.last_hidden_state.dim(0)) {}

  Tensor step(const Tensor& input_ids, const Tensor& attention_mask) override {
    const std::string what = g_->class_name + " DecoderStep.step";
    const Tensor ids = check_token_ids(input_ids, g_->vocab, what);
    const std::int64_t rows = ids.dim(0), new_len = ids.dim(1);
    if (rows != rows_) {
      throw InvalidArgument(what + ": input_ids has " + std::to_string(rows) + " rows but the state holds " +
                            std::to_string(rows_) + " (use select_rows to change them)");
    }
    if (g_->caches() && past_ > 0 && g_->with_past != g_->first && new_len != 1) {
      const auto* in = g_->with_past->input("input_ids");
      if (in && in->shape.size() == 2 && in->shape[1] == 1) {
        throw InvalidArgument(what + ": " + g_->with_past_path.filename().string() +
                              " takes one decoder token per step with past, got " + std::to_string(new_len));
      }
    }
    const Tensor mask = g_->check_decoder_mask(attention_mask, rows, past_ + new_len, what);
    Tensor logits;
    if (g_->caches()) {
      auto r = g_->run(ids, encoder_, mask, self_, cross_, past_);
      self_ = std::move(r.self);
      if (past_ == 0) cross_ = std::move(r.cross);
      logits = std::move(r.logits);
    } else {
      std::vector<std::int64_t> all;
      const std::int64_t total = past_ + new_len;
      all.reserve(static_cast<std::size_t>(rows * total));
      const auto fresh = ids.span<std::int64_t>();
      for (std::int64_t r = 0; r < rows; ++r) {
        if (past_ > 0) all.insert(all.end(), ids_.begin() + r * past_, ids_.begin() + (r + 1) * past_);
        all.insert(all.end(), fresh.begin() + r * new_len, fresh.begin() + (r + 1) * new_len);
      }
      auto r = g_->run(Tensor::from_vector(all, {rows, total}), encoder_, mask, {}, {}, 0);
      ids_ = std::move(all);
      logits = std::move(r.logits);
    }
    past_ += new_len;
    return last_position_logits(logits);
  }

  void select_rows(std::span<const std::int64_t> rows) override {
    for (std::int64_t r : rows) {
      if (r < 0 || r >= rows_) {
        throw InvalidArgument("DecoderStep.select_rows: row " + std::to_string(r) + " out of range [0, " +
                              std::to_string(rows_) + ")");
      }
    }
    const auto n = static_cast<std::int64_t>(rows.size());
    bool identity = n == rows_;
    for (std::int64_t i = 0; identity && i < n; ++i) identity = rows[i] == i;
    if (identity) return;
    encoder_.last_hidden_state = gather_rows(encoder_.last_hidden_state, rows);
    if (encoder_.attention_mask.defined()) encoder_.attention_mask = gather_rows(encoder_.attention_mask, rows);
    for (auto& t : self_) t = gather_rows(t, rows);
    for (auto& t : cross_) t = gather_rows(t, rows);
    if (!ids_.empty()) {
      std::vector<std::int64_t> ids;
      ids.reserve(static_cast<std::size_t>(n * past_));
      for (std::int64_t r : rows) ids.insert(ids.end(), ids_.begin() + r * past_, ids_.begin() + (r + 1) * past_);
      ids_ = std::move(ids);
    }
    rows_ = n;
  }

  std::int64_t rows() const override { return rows_; }
  std::int64_t past_length() const override { return past_; }

 private:
  std::shared_ptr<const ORTModelForConditionalGeneration::Graphs> g_;
  EncoderOutput encoder_;
  std::int64_t rows_;
  std::int64_t past_ = 0;
  std::vector<Tensor> self_;       // self-attention cache, interleaved key, value per layer: [rows, heads, past_, hd]
  std::vector<Tensor> cross_;      // cross-attention key/values from the first step (empty when not cached)
  std::vector<std::int64_t> ids_;  // use_cache = false: every decoder token so far, [rows_, past_]
};

}  // namespace

std::unique_ptr<DecoderStep> make_encoder_decoder_step(
    std::shared_ptr<const ORTModelForConditionalGeneration::Graphs> graphs, EncoderOutput encoder_output) {
  return std::make_unique<EncoderDecoderStep>(std::move(graphs), std::move(encoder_output));
}

}  // namespace ortformers::models
