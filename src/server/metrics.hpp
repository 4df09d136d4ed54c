#pragma once
// Counters, gauges and histograms in Prometheus' text format, named as text-embeddings-inference names its metrics
// (te_request_count, te_queue_size, te_batch_next_size, te_request_duration, ...). Thread-safe, lock per update.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ortformers::server {

class Metrics {
 public:
  Metrics();
  // labels: `key="value"` pairs already formatted, e.g. `method="embed"`; "" for none.
  void increment(const std::string& name, const std::string& labels = "", double by = 1);
  void set_gauge(const std::string& name, double value);
  void observe(const std::string& name, double value, const std::string& labels = "");
  // The whole registry in Prometheus text exposition format 0.0.4.
  std::string render() const;
  double counter(const std::string& name, const std::string& labels = "") const;  // for tests

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;  // per bucket (not cumulative)
    double sum = 0;
    std::uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::string> help_;
  std::map<std::string, std::string> types_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, double> gauges_;
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
  std::map<std::string, std::vector<double>> bounds_;
};

}  // namespace ortformers::server
