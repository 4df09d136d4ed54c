// The DecoderStep of ORTModelForCausalLM: the KV cache and one decoder run per step.
//
// optimum's exports compute present = Concat(past, new) for every layer, so each step ONNX Runtime reads the whole
// past and writes a present one token longer; that copy is inside the graph. The step holds the cache one of three
// ways:
//  - io_binding (default): two buffers per cache tensor, each holding one [rows, kv_heads, length, head_dim]
//    tensor at its start. The past is read from one, the present bound (IO binding) to the other, then they swap.
//    No allocation per step (a buffer grows by doubling, without copying: its old content is never needed), no copy
//    besides the graph's own Concat.
//  - share_buffer (io_binding on a graph marked ortformers.past_present_share_buffer, i.e. the --optimize Llama
//    export, or CausalLMOptions::past_present_share_buffer = true): onnxruntime-genai's past_present_share_buffer.
//    One buffer per cache tensor, [rows, kv_heads, capacity, head_dim], bound as both past_key_values.<i>.* and
//    present.<i>.*. GroupQueryAttention sees the same data pointer for past and present, reads the first
//    total_sequence_length (= the attention_mask's length) positions of every row and writes the new tokens at
//    seqlens_k + 1 - new (= past length) in place: nothing is copied per step. capacity = reserve()'s max_length
//    (generate(): prompt + max_new_tokens), else the first step's length + 1 rounded up to 256; a cache that
//    outgrows it is copied once into a buffer of twice the capacity (at most max_positions). Left padding needs
//    nothing special: every row's cache starts at column 0 and the graph masks padding with attention_mask.
//  - without io_binding: ORT allocates each present and the step keeps it as the next past (Tensor::from_ort,
//    zero-copy).
// select_rows / append_rows / trim_past work on all three: a cache tensor holds stride() positions per (row, head)
// block (the past length, or the capacity of a shared buffer), of which the first past_ are the cache.
// select_rows gathers rows (one copy of the cache, as transformers' reorder_cache), skipped for the identity.
#include <algorithm>
#include <cstring>
#include <new>
#include <numeric>

#include "causal_lm_graphs.hpp"
#include "ortformers/core/error.hpp"

namespace ortformers::models {

namespace {

// A growable byte buffer aligned for SIMD kernels.
struct Buffer {
  std::shared_ptr<void> data;
  std::size_t capacity = 0;
  void reserve(std::size_t bytes) {
    if (bytes <= capacity) return;
    const std::size_t n = std::max(bytes, capacity * 2);
    data = std::shared_ptr<void>(::operator new (n, std::align_val_t{64}),
                                 [](void* p) { ::operator delete (p, std::align_val_t{64}); });
    capacity = n;
  }
};

// Moves `count` positions in each of `blocks` consecutive (row, head) blocks, `line` bytes per position: block b of
// src (positions from src_at, src_stride positions per block) to block b of dst (from dst_at, dst_stride per
// block). dst may be src with dst_at <= src_at (trim_past in place).
void move_positions(std::byte* dst, std::int64_t dst_stride, std::int64_t dst_at, const std::byte* src,
                    std::int64_t src_stride, std::int64_t src_at, std::int64_t blocks, std::int64_t count,
                    std::size_t line) {
  if (count <= 0) return;
  const std::size_t bytes = static_cast<std::size_t>(count) * line;
  for (std::int64_t b = 0; b < blocks; ++b)
    std::memmove(dst + static_cast<std::size_t>(b * dst_stride + dst_at) * line,
                 src + static_cast<std::size_t>(b * src_stride + src_at) * line, bytes);
}

std::byte* bytes_of(Tensor& t) {
  return static_cast<std::byte*>(t.raw_data());
}
const std::byte* bytes_of(const Tensor& t) {
  return static_cast<const std::byte*>(t.raw_data());
}

class CausalLMStep final : public DecoderStep {
 public:
  CausalLMStep(std::shared_ptr<const ORTModelForCausalLM::Graphs> graphs, bool io_binding, bool share_buffer)
      : g_(std::move(graphs)),
        io_binding_(io_binding && g_->caches()),
        share_(share_buffer && io_binding_ && g_->layout == CausalLMLayout::Single) {
    if (io_binding_) {
      current_.resize(g_->past_names.size());
      spare_.resize(g_->past_names.size());
    }
  }

  Tensor step(const Tensor& input_ids, const Tensor& attention_mask) override {
    const char* what = "DecoderStep.step";
    const Tensor ids = g_->check_input_ids(input_ids, what);
    const std::int64_t rows = ids.dim(0), new_len = ids.dim(1);
    if (past_ > 0 && rows != rows_) {
      throw InvalidArgument(std::string(what) + ": input_ids has " + std::to_string(rows) +
                            " rows but the cache holds " + std::to_string(rows_) + " (use select_rows to change them)");
    }
    const Tensor mask = g_->check_attention_mask(attention_mask, rows, past_, new_len, what);
    Tensor logits = g_->caches() ? run_cached(ids, mask, new_len) : run_uncached(ids, mask);
    rows_ = rows;
    past_ += new_len;
    return last_position_logits(logits);
  }

  void select_rows(std::span<const std::int64_t> rows) override {
    for (std::int64_t r : rows) {
      if (r < 0 || r >= rows_) {
        throw InvalidArgument("DecoderStep.select_rows: row " + std::to_string(r) + " out of range [0, " +
                              std::to_string(rows_) + ")" +
                              (rows_ == 0 ? " (a decoder-only state has no rows before its first step)" : ""));
      }
    }
    const auto n = static_cast<std::int64_t>(rows.size());
    bool identity = n == rows_;
    for (std::int64_t i = 0; identity && i < n; ++i) identity = rows[i] == i;
    if (identity) return;
    if (!g_->caches()) {
      std::vector<std::int64_t> ids;
      ids.reserve(static_cast<std::size_t>(n * past_));
      for (std::int64_t r : rows) ids.insert(ids.end(), ids_.begin() + r * past_, ids_.begin() + (r + 1) * past_);
      ids_ = std::move(ids);
    } else {
      const std::int64_t stride = this->stride(), kv = g_->kv_heads;
      const std::size_t line = line_bytes(), row_bytes = static_cast<std::size_t>(kv * stride) * line;
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        const Tensor src = cache_[i];
        Tensor dst = fresh_cache(i, n, stride);
        for (std::int64_t j = 0; j < n; ++j)
          move_positions(bytes_of(dst) + static_cast<std::size_t>(j) * row_bytes, stride, 0,
                         bytes_of(src) + static_cast<std::size_t>(rows[j]) * row_bytes, stride, 0, kv, past_, line);
        cache_[i] = std::move(dst);
      }
    }
    rows_ = n;
  }

  void reserve(std::int64_t max_length) override { hint_ = std::max<std::int64_t>(max_length, 0); }

  std::int64_t rows() const override { return rows_; }
  std::int64_t past_length() const override { return past_; }

  void append_rows(DecoderStep& other_step) override {
    auto* other = dynamic_cast<CausalLMStep*>(&other_step);
    if (!other || other->g_ != g_) {
      throw UnsupportedError("DecoderStep.append_rows: the other state is not a state of the same ORTModelForCausalLM");
    }
    if (other == this) throw InvalidArgument("DecoderStep.append_rows: a state cannot be appended to itself");
    if (other->rows_ == 0) return;
    if (rows_ == 0) {
      take(*other);
      return;
    }
    if (other->past_ != past_ && !positions_from_mask()) {
      throw UnsupportedError("DecoderStep.append_rows: past lengths " + std::to_string(past_) + " and " +
                             std::to_string(other->past_) +
                             " differ and the graph takes no position_ids (left padding would shift positions)");
    }
    const std::int64_t past = std::max(past_, other->past_), rows = rows_ + other->rows_;
    if (!g_->caches()) {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(rows * past), 0);
      auto place = [&](const std::vector<std::int64_t>& src, std::int64_t n, std::int64_t p, std::int64_t at) {
        for (std::int64_t r = 0; r < n; ++r)
          std::copy(src.begin() + r * p, src.begin() + (r + 1) * p, ids.begin() + (at + r) * past + (past - p));
      };
      place(ids_, rows_, past_, 0);
      place(other->ids_, other->rows_, other->past_, rows_);
      ids_ = std::move(ids);
    } else {
      // The shorter past is left-padded with zeros (masked by the caller); a shared buffer keeps the larger capacity.
      const std::int64_t stride = share_ ? std::max({cap_, other->stride(), past}) : past, kv = g_->kv_heads;
      const std::size_t line = line_bytes();
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        const Tensor mine = cache_[i];
        Tensor dst = fresh_cache(i, rows, stride);
        std::memset(dst.raw_data(), 0, dst.nbytes());
        move_positions(bytes_of(dst), stride, past - past_, bytes_of(mine), this->stride(), 0, rows_ * kv, past_, line);
        move_positions(bytes_of(dst) + static_cast<std::size_t>(rows_ * kv * stride) * line, stride,
                       past - other->past_, bytes_of(other->cache_[i]), other->stride(), 0, other->rows_ * kv,
                       other->past_, line);
        cache_[i] = std::move(dst);
      }
      if (share_) cap_ = stride;
    }
    rows_ = rows;
    past_ = past;
    other->clear();
  }

  void trim_past(std::int64_t count) override {
    if (count < 0 || count > past_) {
      throw InvalidArgument("DecoderStep.trim_past: count " + std::to_string(count) + " out of range [0, " +
                            std::to_string(past_) + "]");
    }
    if (count == 0) return;
    const std::int64_t past = past_ - count;
    if (!g_->caches()) {
      std::vector<std::int64_t> ids;
      ids.reserve(static_cast<std::size_t>(rows_ * past));
      for (std::int64_t r = 0; r < rows_; ++r)
        ids.insert(ids.end(), ids_.begin() + r * past_ + count, ids_.begin() + (r + 1) * past_);
      ids_ = std::move(ids);
    } else {
      const std::int64_t blocks = rows_ * g_->kv_heads;
      const std::size_t line = line_bytes();
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        if (share_) {  // in place: every block's positions [count, past_) move to its start
          move_positions(bytes_of(cache_[i]), cap_, 0, bytes_of(cache_[i]), cap_, count, blocks, past, line);
          continue;
        }
        const Tensor src = cache_[i];
        Tensor dst = fresh_cache(i, rows_, past);
        move_positions(bytes_of(dst), past, 0, bytes_of(src), past_, count, blocks, past, line);
        cache_[i] = std::move(dst);
      }
    }
    past_ = past;
  }

 private:
  // Positions per (row, head) block of the cache tensors: the capacity of a shared buffer, else the past length.
  std::int64_t stride() const { return share_ ? cap_ : past_; }
  std::size_t line_bytes() const { return static_cast<std::size_t>(g_->head_dim) * dtype_size(g_->cache_dtype); }

  Tensor run_cached(const Tensor& ids, const Tensor& mask, std::int64_t new_len) {
    if (share_) return run_shared(ids, mask, new_len);
    runtime::Session& s = g_->session_for(past_);
    const Tensor pos = position_ids_from_mask(mask, new_len);
    TensorMap feed = g_->feed(s, ids, mask, pos, past_ > 0 ? cache_ : std::vector<Tensor>{});
    const std::int64_t rows = ids.dim(0), total = past_ + new_len;
    if (!io_binding_) {
      std::vector<std::string> outputs{"logits"};
      outputs.insert(outputs.end(), g_->present_names.begin(), g_->present_names.end());
      TensorMap out = s.run_unchecked(feed, outputs);
      cache_.clear();
      for (const auto& name : g_->present_names) cache_.push_back(take(out, name, s, rows, total));
      return std::move(out.at("logits"));
    }
    std::vector<Tensor> presents;
    const std::size_t bytes =
        static_cast<std::size_t>(rows * g_->kv_heads * total * g_->head_dim) * dtype_size(g_->cache_dtype);
    for (std::size_t i = 0; i < g_->present_names.size(); ++i) {
      spare_[i].reserve(bytes);
      presents.push_back(
          Tensor::from_external(g_->cache_dtype, spare_[i].data.get(), g_->cache_shape(rows, total), spare_[i].data));
    }
    Tensor logits = run_bound(s, feed, presents, g_->cache_shape(rows, total));
    std::swap(current_, spare_);
    cache_ = std::move(presents);
    return logits;
  }

  // The shared past/present buffer: the cache tensors (capacity cap_) are fed as the past and bound as the
  // presents; GroupQueryAttention appends the new tokens in place.
  Tensor run_shared(const Tensor& ids, const Tensor& mask, std::int64_t new_len) {
    runtime::Session& s = g_->session_for(past_);
    const std::int64_t rows = ids.dim(0), total = past_ + new_len;
    if (cache_.empty() || cache_[0].dim(0) != rows || total > cap_) grow(rows, total);
    const Tensor pos = position_ids_from_mask(mask, new_len);
    const TensorMap feed = g_->feed(s, ids, mask, pos, cache_);
    return run_bound(s, feed, cache_, g_->cache_shape(rows, cap_));
  }

  // A shared buffer for rows x `need` positions at least: the cache so far copied into buffers of a new capacity.
  void grow(std::int64_t rows, std::int64_t need) {
    std::int64_t cap = std::max(need, hint_ > 0 ? hint_ : (need + 1 + 255) / 256 * 256);
    if (past_ > 0) cap = std::max(cap, 2 * cap_);
    if (g_->max_positions > 0) cap = std::min(cap, std::max(need, g_->max_positions));
    const std::size_t line = line_bytes();
    cache_.resize(g_->past_names.size());
    for (std::size_t i = 0; i < cache_.size(); ++i) {
      Buffer b;
      b.reserve(static_cast<std::size_t>(rows * g_->kv_heads * cap) * line);
      std::memset(b.data.get(), 0, b.capacity);
      Tensor t = Tensor::from_external(g_->cache_dtype, b.data.get(), g_->cache_shape(rows, cap), b.data);
      if (past_ > 0)
        move_positions(bytes_of(t), cap, 0, bytes_of(cache_[i]), cap_, 0, rows * g_->kv_heads, past_, line);
      current_[i] = std::move(b);
      cache_[i] = std::move(t);
    }
    cap_ = cap;
  }

  // One run with IO binding: `feed` as inputs, the logits into ORT's memory, present i into presents[i] (for the
  // shared buffer: the past tensors themselves). A graph that did not write a present into its bound tensor with
  // shape `present_shape` is an error rather than a silent misread.
  Tensor run_bound(runtime::Session& s, const TensorMap& feed, const std::vector<Tensor>& presents,
                   const Shape& present_shape) {
    Ort::IoBinding binding(s.raw());
    std::vector<Ort::Value> keep;  // the values bound as inputs / outputs must outlive Run
    keep.reserve(feed.size() + presents.size());
    for (const auto& [name, t] : feed) {
      keep.push_back(t.to_ort());
      binding.BindInput(name.c_str(), keep.back());
    }
    static const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    binding.BindOutput("logits", cpu);
    for (std::size_t i = 0; i < presents.size(); ++i) {
      keep.push_back(presents[i].to_ort());
      binding.BindOutput(g_->present_names[i].c_str(), keep.back());
    }
    const char* shared_hint =
        share_ ? " (with past_present_share_buffer: the graph must write every present in place with "
                 "GroupQueryAttention, as the --optimize Llama export does; load it with "
                 "past_present_share_buffer=false)"
               : "";
    try {
      s.raw().Run(Ort::RunOptions{nullptr}, binding);
    } catch (const Ort::Exception& e) {
      throw RuntimeError("ONNX Runtime failed running " + s.model_path() + ": " + e.what() + shared_hint);
    }
    std::vector<Ort::Value> outputs = binding.GetOutputValues();
    // Outputs come back in binding order: logits first.
    for (std::size_t i = 1; i < outputs.size(); ++i) {
      if (outputs[i].GetTensorTypeAndShapeInfo().GetShape() != present_shape ||
          outputs[i].GetTensorRawData() != presents[i - 1].raw_data()) {
        throw RuntimeError("graph " + s.model_path() + " did not write " + g_->present_names[i - 1] + " with shape " +
                           shape_to_string(present_shape) + " into the bound buffer" + shared_hint);
      }
    }
    return Tensor::from_ort(std::move(outputs.at(0)));
  }

  bool positions_from_mask() const { return g_->session_for(1).has_input("position_ids"); }

  // A [rows, kv_heads, length, head_dim] tensor for cache entry i, written next: in the spare buffer (which then
  // becomes the current one) with IO binding, else freshly allocated.
  Tensor fresh_cache(std::size_t i, std::int64_t rows, std::int64_t length) {
    if (!io_binding_) return Tensor::zeros(g_->cache_dtype, g_->cache_shape(rows, length));
    spare_[i].reserve(static_cast<std::size_t>(rows * g_->kv_heads * length * g_->head_dim) *
                      dtype_size(g_->cache_dtype));
    Tensor t =
        Tensor::from_external(g_->cache_dtype, spare_[i].data.get(), g_->cache_shape(rows, length), spare_[i].data);
    std::swap(current_[i], spare_[i]);
    return t;
  }

  // Takes the whole state of `other` (this one has no rows), leaving `other` empty.
  void take(CausalLMStep& other) {
    rows_ = other.rows_;
    past_ = other.past_;
    ids_ = std::move(other.ids_);
    if (!g_->caches()) {
      other.clear();
      return;
    }
    if (io_binding_ == other.io_binding_ && share_ == other.share_) {
      cache_ = std::move(other.cache_);
      std::swap(current_, other.current_);
      std::swap(spare_, other.spare_);
      cap_ = other.cap_;
    } else {
      const std::int64_t stride = past_;  // a shared buffer grows at the next step
      cache_.resize(other.cache_.size());
      for (std::size_t i = 0; i < other.cache_.size(); ++i) {
        Tensor dst = fresh_cache(i, rows_, stride);
        move_positions(bytes_of(dst), stride, 0, bytes_of(other.cache_[i]), other.stride(), 0, rows_ * g_->kv_heads,
                       past_, line_bytes());
        cache_[i] = std::move(dst);
      }
      if (share_) cap_ = stride;
    }
    other.clear();
  }

  void clear() {
    rows_ = 0;
    past_ = 0;
    cap_ = 0;
    ids_.clear();
    cache_.clear();
    if (io_binding_) {
      current_.assign(g_->past_names.size(), Buffer{});
      spare_.assign(g_->past_names.size(), Buffer{});
    }
  }

  Tensor take(TensorMap& out, const std::string& name, const runtime::Session& s, std::int64_t rows,
              std::int64_t total) const {
    Tensor t = std::move(out.at(name));
    if (t.shape() != g_->cache_shape(rows, total) || t.dtype() != g_->cache_dtype) {
      throw RuntimeError("graph " + s.model_path() + " returned " + name + " with shape " + shape_to_string(t.shape()) +
                         " " + dtype_name(t.dtype()) + "; expected " + shape_to_string(g_->cache_shape(rows, total)) +
                         " " + dtype_name(g_->cache_dtype));
    }
    return t;
  }

  // use_cache = false: the whole sequence every step, as transformers' generate(use_cache=False).
  Tensor run_uncached(const Tensor& ids, const Tensor& mask) {
    const std::int64_t rows = ids.dim(0), new_len = ids.dim(1), total = past_ + new_len;
    std::vector<std::int64_t> all;
    all.reserve(static_cast<std::size_t>(rows * total));
    const auto fresh = ids.span<std::int64_t>();
    for (std::int64_t r = 0; r < rows; ++r) {
      if (past_ > 0) all.insert(all.end(), ids_.begin() + r * past_, ids_.begin() + (r + 1) * past_);
      all.insert(all.end(), fresh.begin() + r * new_len, fresh.begin() + (r + 1) * new_len);
    }
    const Tensor full = Tensor::from_vector(all, {rows, total});
    runtime::Session& s = *g_->first;
    TensorMap out = s.run(g_->feed(s, full, mask, position_ids_from_mask(mask, total), {}), {"logits"});
    ids_ = std::move(all);
    return std::move(out.at("logits"));
  }

  std::shared_ptr<const ORTModelForCausalLM::Graphs> g_;
  bool io_binding_;
  bool share_;  // one buffer per cache tensor bound as past and present (see the top of this file)
  std::int64_t rows_ = 0;
  std::int64_t past_ = 0;
  std::int64_t cap_ = 0;                 // share_: positions per (row, head) of the buffers (0 before the first step)
  std::int64_t hint_ = 0;                // reserve()'s max_length (0 = none)
  std::vector<Tensor> cache_;            // interleaved key, value per layer: [rows, kv_heads, stride(), head_dim]
  std::vector<Buffer> current_, spare_;  // io_binding: the buffers cache_ lives in, and the ones written next
  std::vector<std::int64_t> ids_;        // use_cache = false: every token so far, [rows_, past_]
};

}  // namespace

std::unique_ptr<DecoderStep> make_causal_lm_step(std::shared_ptr<const ORTModelForCausalLM::Graphs> graphs,
                                                 bool io_binding, bool share_buffer) {
  return std::make_unique<CausalLMStep>(std::move(graphs), io_binding, share_buffer);
}

}  // namespace ortformers::models
