#include "server/metrics.hpp"

#include <sstream>

#include "ortformers/core/json.hpp"

namespace ortformers::server {

namespace {

std::vector<double> duration_buckets() {  // seconds, as TEI's exponential buckets
  std::vector<double> b;
  for (double v = 0.00001; v < 60; v *= 2.5) b.push_back(v);
  return b;
}

std::vector<double> size_buckets(double max) {
  std::vector<double> b;
  for (double v = 1; v <= max; v *= 2) b.push_back(v);
  return b;
}

std::string num(double v) {
  return format_double(v);
}

}  // namespace

Metrics::Metrics() {
  const auto counter = [&](const std::string& n, const std::string& h) {
    types_[n] = "counter";
    help_[n] = h;
  };
  const auto gauge = [&](const std::string& n, const std::string& h) {
    types_[n] = "gauge";
    help_[n] = h;
    gauges_[n] = 0;
  };
  const auto histogram = [&](const std::string& n, const std::string& h, std::vector<double> b) {
    types_[n] = "histogram";
    help_[n] = h;
    bounds_[n] = std::move(b);
  };
  counter("te_request_count", "Requests received, by method");
  counter("te_request_success", "Requests answered with 2xx, by method");
  counter("te_request_failure", "Requests that failed, by error type");
  gauge("te_queue_size", "Sequences waiting for a model batch");
  gauge("te_in_flight", "Requests admitted and not yet answered");
  histogram("te_request_duration", "Whole request time in seconds", duration_buckets());
  histogram("te_request_tokenization_duration", "Tokenization time of a request in seconds", duration_buckets());
  histogram("te_request_queue_duration", "Time a request waited for its first model batch in seconds",
            duration_buckets());
  histogram("te_request_inference_duration", "Model time of a request in seconds", duration_buckets());
  histogram("te_batch_inference_duration", "Time of one model batch in seconds", duration_buckets());
  histogram("te_batch_next_size", "Sequences per model batch", size_buckets(4096));
  histogram("te_batch_next_tokens", "Padded tokens per model batch", size_buckets(1 << 20));
  histogram("te_request_input_length", "Tokens per input", size_buckets(1 << 16));
  // Generative models (TGI's names).
  gauge("tgi_queue_size", "Generation requests waiting to join the running batch");
  gauge("tgi_batch_current_size", "Sequences in the running generation batch");
  gauge("tgi_batch_current_max_tokens", "KV tokens reserved by the running batch (prompt + max_new_tokens per row)");
  counter("tgi_request_failure", "Generation requests that ended without an answer, by reason");
  histogram("tgi_batch_inference_duration", "Time of one prefill or decode step in seconds, by method",
            duration_buckets());
  histogram("tgi_request_input_length", "Prompt tokens per generation request", size_buckets(1 << 16));
  histogram("tgi_request_generated_tokens", "Tokens generated per request", size_buckets(1 << 16));
  histogram("tgi_request_queue_duration", "Time a generation request waited before its prefill in seconds",
            duration_buckets());
  histogram("tgi_request_first_token_duration", "Time to first token in seconds (queue + prefill)", duration_buckets());
  histogram("tgi_request_mean_time_per_token_duration", "Mean inter-token latency of a request in seconds",
            duration_buckets());
  histogram("tgi_request_inference_duration", "Time from prefill to the last token in seconds", duration_buckets());
  counters_["te_request_count"];
}

void Metrics::increment(const std::string& name, const std::string& labels, double by) {
  std::lock_guard lock(mu_);
  counters_[name][labels] += by;
}

void Metrics::set_gauge(const std::string& name, double value) {
  std::lock_guard lock(mu_);
  gauges_[name] = value;
}

void Metrics::observe(const std::string& name, double value, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& h = histograms_[name][labels];
  if (h.bounds.empty()) {
    h.bounds = bounds_[name];
    h.counts.assign(h.bounds.size() + 1, 0);
  }
  std::size_t i = 0;
  while (i < h.bounds.size() && value > h.bounds[i]) ++i;
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

double Metrics::counter(const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto jt = it->second.find(labels);
  return jt == it->second.end() ? 0 : jt->second;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  const auto header = [&](const std::string& n) {
    out << "# HELP " << n << ' ' << help_.at(n) << "\n# TYPE " << n << ' ' << types_.at(n) << '\n';
  };
  const auto braces = [](const std::string& labels) { return labels.empty() ? std::string() : "{" + labels + "}"; };
  for (const auto& [name, type] : types_) {
    header(name);
    if (type == "counter") {
      auto it = counters_.find(name);
      if (it == counters_.end() || it->second.empty()) {
        out << name << " 0\n";
        continue;
      }
      for (const auto& [labels, v] : it->second) out << name << braces(labels) << ' ' << num(v) << '\n';
    } else if (type == "gauge") {
      out << name << ' ' << num(gauges_.at(name)) << '\n';
    } else {
      auto it = histograms_.find(name);
      if (it == histograms_.end()) continue;
      for (const auto& [labels, h] : it->second) {
        const std::string sep = labels.empty() ? "" : labels + ",";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds.size(); ++i) {
          cumulative += h.counts[i];
          out << name << "_bucket{" << sep << "le=\"" << num(h.bounds[i]) << "\"} " << cumulative << '\n';
        }
        cumulative += h.counts.back();
        out << name << "_bucket{" << sep << "le=\"+Inf\"} " << cumulative << '\n';
        out << name << "_sum" << braces(labels) << ' ' << num(h.sum) << '\n';
        out << name << "_count" << braces(labels) << ' ' << h.count << '\n';
      }
    }
  }
  return out.str();
}

}  // namespace ortformers::server
