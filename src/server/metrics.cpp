// Prometheus text rendering of the server's counters, histograms and gauges.
#include "server/metrics.h"

#include <array>

#include <fmt/format.h>

namespace rf::server {
namespace {

constexpr std::array<std::string_view, 10> kEndpoints = {
    "/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics",
    "/tokenize", "/detokenize", "/v1/models/{id}", "/completions", "/chat/completions"};

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <typename T>
void gauge(std::string& out, std::string_view name, std::string_view help, T value) {
    header(out, name, help, "gauge");
    out += fmt::format("{} {}\n", name, value);
}

template <typename T>
void counter(std::string& out, std::string_view name, std::string_view help, T value) {
    header(out, name, help, "counter");
    out += fmt::format("{} {}\n", name, value);
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[i];
    sum_ += value;
    ++count_;
}

uint64_t Histogram::count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
    std::lock_guard<std::mutex> lock(mutex_);
    header(out, name, help, "histogram");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
    }
    cumulative += counts_.back();
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
    out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5}),
      request_({0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0}) {}

void Metrics::count_request(std::string_view endpoint, int status) {
    std::string label = "other";
    for (std::string_view known : kEndpoints) {
        if (endpoint == known) label = std::string(known);
    }
    if (label == "other" && endpoint.starts_with("/v1/models/")) label = "/v1/models/{id}";
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{label, status}];
}

uint64_t Metrics::requests_with_status(int status) const {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t n = 0;
    for (const auto& [key, count] : requests_) n += key.second == status ? count : 0;
    return n;
}

std::string Metrics::render(const engine::SchedulerStats* stats, int32_t in_flight, bool ready) const {
    std::string out;
    header(out, "rocmforge_requests_total", "HTTP requests answered, by endpoint and status", "counter");
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [key, count] : requests_) {
            out += fmt::format("rocmforge_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                               key.first, key.second, count);
        }
    }
    counter(out, "rocmforge_prompt_tokens_total", "Prompt tokens of accepted requests",
            prompt_tokens_.load());
    counter(out, "rocmforge_generation_tokens_total", "Tokens generated and sent",
            generated_tokens_.load());
    ttft_.render(out, "rocmforge_time_to_first_token_seconds",
                 "From request arrival to its first generated token");
    itl_.render(out, "rocmforge_inter_token_latency_seconds",
                "Between consecutive generated tokens of one sequence");
    request_.render(out, "rocmforge_request_duration_seconds",
                    "From request arrival to its last generated token");
    gauge(out, "rocmforge_ready", "1 when the model is loaded and requests are accepted", ready ? 1 : 0);
    gauge(out, "rocmforge_requests_in_flight", "Generation requests being answered", in_flight);
    if (stats != nullptr) {
        gauge(out, "rocmforge_queue_depth", "Sequences waiting for a slot", stats->n_waiting);
        gauge(out, "rocmforge_running_sequences", "Sequences being decoded", stats->n_running);
        gauge(out, "rocmforge_cached_sequences", "Finished sequences kept for prefix reuse",
              stats->n_cached_seqs);
        gauge(out, "rocmforge_kv_blocks_used", "KV cache blocks in use (cached prefixes included)",
              stats->kv_blocks_used);
        gauge(out, "rocmforge_kv_blocks_total", "KV cache blocks in the pool", stats->kv_blocks_total);
        counter(out, "rocmforge_engine_steps_total", "Forward steps run", stats->n_steps);
        counter(out, "rocmforge_preemptions_total", "Sequences preempted for KV space",
                stats->n_preemptions);
        counter(out, "rocmforge_prompt_tokens_computed_total",
                "Prompt tokens run through the model (recomputation included)",
                stats->prompt_tokens_computed);
        counter(out, "rocmforge_prompt_tokens_cached_total", "Prompt tokens reused from the prefix cache",
                stats->prompt_tokens_reused);
    }
    return out;
}

}  // namespace rf::server
