// The DecoderStep of ORTModelForCausalLM: the KV cache and one decoder run per step.
//
// The exported graphs compute present = Concat(past, new) for every layer, so each step ONNX Runtime reads the whole
// past and writes a present one token longer; that copy is inside the graph and cannot be avoided with these
// exports. What the step controls is everything around it:
//  - io_binding (default): two buffers per cache tensor, each holding one [rows, kv_heads, length, head_dim]
//    tensor at its start. The past is read from one, the present bound (IO binding) to the other, then they swap.
//    No allocation per step (a buffer grows by doubling, without copying: its old content is never needed), no copy
//    besides the graph's own Concat.
//  - without it: ORT allocates each present and the step keeps it as the next past (Tensor::from_ort, zero-copy).
// select_rows gathers rows of every cache tensor (one copy of the cache, as transformers' reorder_cache), skipped
// when the selection is the identity.
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

class CausalLMStep final : public DecoderStep {
 public:
  CausalLMStep(std::shared_ptr<const ORTModelForCausalLM::Graphs> graphs, bool io_binding)
      : g_(std::move(graphs)), io_binding_(io_binding && g_->caches()) {
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
      const std::size_t row_bytes =
          static_cast<std::size_t>(g_->kv_heads * past_ * g_->head_dim) * dtype_size(g_->cache_dtype);
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        const auto* src = static_cast<const std::byte*>(cache_[i].raw_data());
        Tensor dst;
        if (io_binding_) {
          spare_[i].reserve(row_bytes * static_cast<std::size_t>(n));
          dst = Tensor::from_external(g_->cache_dtype, spare_[i].data.get(), g_->cache_shape(n, past_), spare_[i].data);
          std::swap(current_[i], spare_[i]);
        } else {
          dst = Tensor::zeros(g_->cache_dtype, g_->cache_shape(n, past_));
        }
        auto* out = static_cast<std::byte*>(dst.raw_data());
        for (std::int64_t j = 0; j < n; ++j) {
          if (row_bytes) std::memcpy(out + j * row_bytes, src + rows[j] * row_bytes, row_bytes);
        }
        cache_[i] = std::move(dst);
      }
    }
    rows_ = n;
  }

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
      const std::size_t elem = dtype_size(g_->cache_dtype);
      const std::size_t line = static_cast<std::size_t>(g_->head_dim) * elem;  // one position of one head
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        Tensor dst = fresh_cache(i, rows, past);
        auto* out = static_cast<std::byte*>(dst.raw_data());
        std::memset(out, 0, static_cast<std::size_t>(rows * g_->kv_heads * past) * line);
        auto place = [&](const Tensor& src, std::int64_t n, std::int64_t p, std::int64_t at) {
          const auto* in = static_cast<const std::byte*>(src.raw_data());
          for (std::int64_t r = 0; r < n; ++r)
            for (std::int64_t h = 0; h < g_->kv_heads; ++h) {
              const std::size_t bytes = static_cast<std::size_t>(p) * line;
              if (bytes == 0) continue;
              std::memcpy(out + static_cast<std::size_t>(((at + r) * g_->kv_heads + h) * past + (past - p)) * line,
                          in + static_cast<std::size_t>((r * g_->kv_heads + h) * p) * line, bytes);
            }
        };
        place(cache_[i], rows_, past_, 0);
        place(other->cache_[i], other->rows_, other->past_, rows_);
        cache_[i] = std::move(dst);
      }
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
      const std::size_t line = static_cast<std::size_t>(g_->head_dim) * dtype_size(g_->cache_dtype);
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        Tensor dst = fresh_cache(i, rows_, past);
        auto* out = static_cast<std::byte*>(dst.raw_data());
        const auto* in = static_cast<const std::byte*>(cache_[i].raw_data());
        const std::size_t bytes = static_cast<std::size_t>(past) * line;
        for (std::int64_t rh = 0; bytes && rh < rows_ * g_->kv_heads; ++rh)
          std::memcpy(out + static_cast<std::size_t>(rh * past) * line,
                      in + static_cast<std::size_t>(rh * past_ + count) * line, bytes);
        cache_[i] = std::move(dst);
      }
    }
    past_ = past;
  }

 private:
  Tensor run_cached(const Tensor& ids, const Tensor& mask, std::int64_t new_len) {
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
    Ort::IoBinding binding(s.raw());
    std::vector<Ort::Value> keep;  // the values bound as inputs / outputs must outlive Run
    keep.reserve(feed.size() + g_->present_names.size());
    for (const auto& [name, t] : feed) {
      keep.push_back(t.to_ort());
      binding.BindInput(name.c_str(), keep.back());
    }
    static const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    binding.BindOutput("logits", cpu);
    std::vector<Tensor> presents;
    const std::size_t bytes =
        static_cast<std::size_t>(rows * g_->kv_heads * total * g_->head_dim) * dtype_size(g_->cache_dtype);
    for (std::size_t i = 0; i < g_->present_names.size(); ++i) {
      spare_[i].reserve(bytes);
      presents.push_back(
          Tensor::from_external(g_->cache_dtype, spare_[i].data.get(), g_->cache_shape(rows, total), spare_[i].data));
      keep.push_back(presents.back().to_ort());
      binding.BindOutput(g_->present_names[i].c_str(), keep.back());
    }
    try {
      s.raw().Run(Ort::RunOptions{nullptr}, binding);
    } catch (const Ort::Exception& e) {
      throw RuntimeError("ONNX Runtime failed running " + s.model_path() + ": " + e.what());
    }
    std::vector<Ort::Value> outputs = binding.GetOutputValues();
    // Outputs come back in binding order: logits first. A graph that resized a bound present (it should not) is
    // an error rather than a silent misread.
    for (std::size_t i = 1; i < outputs.size(); ++i) {
      if (outputs[i].GetTensorTypeAndShapeInfo().GetShape() != g_->cache_shape(rows, total) ||
          outputs[i].GetTensorRawData() != presents[i - 1].raw_data()) {
        throw RuntimeError("graph " + s.model_path() + " did not write " + g_->present_names[i - 1] + " with shape " +
                           shape_to_string(g_->cache_shape(rows, total)) + " into the bound buffer");
      }
    }
    std::swap(current_, spare_);
    cache_ = std::move(presents);
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
    if (io_binding_ == other.io_binding_) {
      cache_ = std::move(other.cache_);
      std::swap(current_, other.current_);
      std::swap(spare_, other.spare_);
    } else {
      cache_.resize(other.cache_.size());
      for (std::size_t i = 0; i < other.cache_.size(); ++i) {
        Tensor dst = fresh_cache(i, rows_, past_);
        if (dst.nbytes()) std::memcpy(dst.raw_data(), other.cache_[i].raw_data(), dst.nbytes());
        cache_[i] = std::move(dst);
      }
    }
    other.clear();
  }

  void clear() {
    rows_ = 0;
    past_ = 0;
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
  std::int64_t rows_ = 0;
  std::int64_t past_ = 0;
  std::vector<Tensor> cache_;            // interleaved key, value per layer: [rows, kv_heads, past_, head_dim]
  std::vector<Buffer> current_, spare_;  // io_binding: the buffers cache_ lives in, and the ones written next
  std::vector<std::int64_t> ids_;        // use_cache = false: every token so far, [rows_, past_]
};

}  // namespace

std::unique_ptr<DecoderStep> make_causal_lm_step(std::shared_ptr<const ORTModelForCausalLM::Graphs> graphs,
                                                 bool io_binding) {
  return std::make_unique<CausalLMStep>(std::move(graphs), io_binding);
}

}  // namespace ortformers::models
