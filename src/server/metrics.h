// Prometheus metrics of the server: requests by endpoint and status, token counters, latency
// histograms (time to first token, inter-token latency, request duration) and scheduler gauges.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/scheduler.h"

namespace rf::server {

// A cumulative-bucket histogram in seconds; observe() is thread-safe.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);
    uint64_t count() const;
    // Appends HELP/TYPE lines, the _bucket series (le="+Inf" last), _sum and _count.
    void render(std::string& out, std::string_view name, std::string_view help) const;

private:
    std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<uint64_t> counts_;  // [bounds + 1], not cumulative; the last is +Inf
    double sum_ = 0.0;
    uint64_t count_ = 0;
};

class Metrics {
public:
    Metrics();

    // `endpoint` is the request path; unknown paths are counted as "other".
    void count_request(std::string_view endpoint, int status);
    void add_prompt_tokens(uint64_t n) { prompt_tokens_ += n; }
    void add_generated_tokens(uint64_t n) { generated_tokens_ += n; }
    void observe_ttft(double seconds) { ttft_.observe(seconds); }
    void observe_itl(double seconds) { itl_.observe(seconds); }
    void observe_request(double seconds) { request_.observe(seconds); }
    uint64_t requests_with_status(int status) const;

    // Text exposition format 0.0.4. `stats` is null while the model loads.
    std::string render(const engine::SchedulerStats* stats, int32_t in_flight, bool ready) const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::atomic<uint64_t> prompt_tokens_{0};
    std::atomic<uint64_t> generated_tokens_{0};
    Histogram ttft_;
    Histogram itl_;
    Histogram request_;
};

}  // namespace rf::server
