// detail::Run: the model step and the bookkeeping shared by the strategies.
#include <algorithm>
#include <numeric>

#include "ortformers/core/error.hpp"
#include "generation/strategies/common.hpp"

namespace ortformers::generation::detail {
namespace {

Tensor to_tensor(const TokenMatrix& m) { return Tensor::from_vector<std::int64_t>(m.data, {m.rows, m.cols}); }

}  // namespace

std::vector<float> Run::forward() {
  TokenMatrix new_ids;
  if (first_step) {
    new_ids = input_ids;
  } else {
    new_ids.rows = input_ids.rows;
    new_ids.cols = 1;
    for (std::int64_t r = 0; r < input_ids.rows; ++r) new_ids.data.push_back(input_ids.at(r, input_ids.cols - 1));
  }
  first_step = false;
  Tensor logits = state->step(to_tensor(new_ids), to_tensor(attention_mask));
  if (logits.rank() != 2 || logits.dim(0) != input_ids.rows || logits.dim(1) != vocab)
    throw RuntimeError("generate(): the model returned logits of shape " + shape_to_string(logits.shape()) +
                       ", expected [" + std::to_string(input_ids.rows) + ", " + std::to_string(vocab) + "]");
  if (logits.dtype() == DType::Float32) return logits.to_vector<float>();
  return logits.to_float_vector();
}

void Run::append(const std::vector<std::int64_t>& tokens) {
  auto grow = [](TokenMatrix& m, const std::vector<std::int64_t>& column) {
    std::vector<std::int64_t> data;
    data.reserve(static_cast<std::size_t>(m.rows * (m.cols + 1)));
    for (std::int64_t r = 0; r < m.rows; ++r) {
      auto row = m.row(r);
      data.insert(data.end(), row.begin(), row.end());
      data.push_back(column[static_cast<std::size_t>(r)]);
    }
    m.data = std::move(data);
    m.cols += 1;
  };
  grow(input_ids, tokens);
  grow(attention_mask, std::vector<std::int64_t>(tokens.size(), 1));
}

void Run::reorder(const std::vector<std::int64_t>& rows) {
  std::vector<std::int64_t> data;
  data.reserve(input_ids.data.size());
  for (auto r : rows) {
    auto row = input_ids.row(r);
    data.insert(data.end(), row.begin(), row.end());
  }
  input_ids.data = std::move(data);
  state->select_rows(rows);
}

bool Run::stop_by_length_or_time() const {
  if (input_ids.cols >= config.max_length) return true;
  return max_time && (*max_time)();
}

Tensor Run::scores_tensor(const std::vector<float>& scores) const {
  return Tensor::from_vector<float>(scores, {static_cast<std::int64_t>(scores.size()) / vocab, vocab});
}

void top_k_desc(const float* values, std::int64_t n, std::int64_t k, std::vector<float>& out_values,
                std::vector<std::int64_t>& out_indices) {
  k = std::min(k, n);
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  auto better = [&](std::int64_t a, std::int64_t b) {
    const float va = values[a], vb = values[b];
    if (va != vb) return va > vb;
    return a < b;
  };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  for (std::int64_t i = 0; i < k; ++i) {
    out_indices.push_back(idx[static_cast<std::size_t>(i)]);
    out_values.push_back(values[idx[static_cast<std::size_t>(i)]]);
  }
}

}  // namespace ortformers::generation::detail
