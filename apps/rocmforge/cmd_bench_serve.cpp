// `rocmforge bench-serve`: a load generator for any OpenAI-compatible server. C concurrent
// clients send N streaming completion requests in total and time every SSE chunk; the report
// gives aggregate generated tokens/s and TTFT / inter-token latency / end-to-end percentiles.
// Only standard OpenAI fields are read back, so llama-server, vLLM and others can be measured.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.h"
#include "core/log.h"
#include "tokenizer/unicode.h"

namespace rf::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchArgs {
    std::string url = "http://127.0.0.1:8080";
    int concurrency = 8;
    int requests = 64;
    int max_tokens = 128;
    int prompt_len = 128;
    std::string api_key;
    std::string model = "default";
    bool chat = false;
    bool ignore_eos = true;
    float temperature = 0.0f;
    int timeout = 600;
    bool json_out = false;
};

struct RequestResult {
    bool ok = false;
    std::string error;
    double ttft = 0.0;  // seconds from sending to the first generated text
    double e2e = 0.0;   // seconds from sending to the end of the stream
    int64_t tokens = 0; // usage.completion_tokens, else the number of text chunks
    bool usage = false; // the stream carried usage.completion_tokens
    std::string finish_reason;  // of choice 0; a stream without one is incomplete
    std::vector<double> itl;  // seconds between consecutive text chunks
};

struct Target {
    std::string origin;  // scheme://host:port
    std::string prefix;  // path before /v1/...
};

Result<Target> parse_url(const std::string& url) {
    constexpr std::string_view kScheme = "http://";
    if (url.rfind(kScheme, 0) != 0) return error("--url must start with http:// (got '{}')", url);
    const size_t slash = url.find('/', kScheme.size());
    Target t;
    t.origin = url.substr(0, slash);
    if (slash != std::string::npos) t.prefix = url.substr(slash);
    while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
    if (t.prefix.size() >= 3 && t.prefix.compare(t.prefix.size() - 3, 3, "/v1") == 0) {
        t.prefix.resize(t.prefix.size() - 3);  // accept base URLs that already end in /v1
    }
    return t;
}

// About `n_words` common words (roughly one token each); the request number leads so prompts
// differ from the first tokens and no server can answer them from a shared prefix.
std::string make_prompt(int index, int n_words) {
    static constexpr const char* kWords[] = {
        "the", "river", "ran", "past", "old", "stone", "houses", "where", "people", "worked",
        "and", "sang", "through", "long", "summer", "days", "while", "children", "played", "near",
        "green", "fields", "of", "wheat", "under", "a", "bright", "sky", "that", "seemed",
        "endless", "to", "every", "traveller", "who", "came", "from", "distant", "towns", "with"};
    std::mt19937 rng(static_cast<uint32_t>(index) * 2654435761u + 17u);
    std::string s = "Story " + std::to_string(index) + ":";
    for (int i = 0; i < n_words; ++i) {
        s += ' ';
        s += kWords[rng() % std::size(kWords)];
    }
    return s;
}

std::string request_body(const BenchArgs& a, int index) {
    json body = {{"model", a.model}, {"max_tokens", a.max_tokens}, {"stream", true},
                 {"stream_options", {{"include_usage", true}}}, {"temperature", a.temperature}};
    if (a.ignore_eos) body["ignore_eos"] = true;
    const std::string prompt = make_prompt(index, a.prompt_len);
    if (a.chat) body["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
    else body["prompt"] = prompt;
    return body.dump();
}

// Handles one SSE event's data; false on a malformed or error event.
bool on_sse_data(std::string_view data, Clock::time_point start, RequestResult& r, bool& done,
                 Clock::time_point& last, int64_t& chunks) {
    if (data == "[DONE]") {
        done = true;
        return true;
    }
    // Servers may pass through bytes that are not UTF-8 (a token cut inside a character); the
    // JSON parser would reject the whole event.
    const json j = json::parse(tok::sanitize_utf8(data), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        r.error = "malformed SSE data";
        return false;
    }
    if (j.contains("error")) {
        r.error = "error event: " + j["error"].dump();
        return false;
    }
    if (j.contains("usage") && j["usage"].is_object() && j["usage"].contains("completion_tokens") &&
        j["usage"]["completion_tokens"].is_number_integer()) {
        r.tokens = j["usage"]["completion_tokens"].get<int64_t>();
        r.usage = true;
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return true;
    const json& c = j["choices"][0];
    if (!c.is_object()) return true;
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) {
        r.finish_reason = c["finish_reason"].get<std::string>();
    }
    std::string text;
    if (c.contains("text") && c["text"].is_string()) text = c["text"].get<std::string>();
    if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
        c["delta"]["content"].is_string()) {
        text = c["delta"]["content"].get<std::string>();
    }
    if (text.empty()) return true;
    const auto now = Clock::now();
    if (chunks == 0) r.ttft = std::chrono::duration<double>(now - start).count();
    else r.itl.push_back(std::chrono::duration<double>(now - last).count());
    last = now;
    ++chunks;
    return true;
}

// The data of one SSE event (its "data:" lines joined), or nothing for comments and other fields.
std::optional<std::string> sse_data(std::string_view event) {
    std::optional<std::string> out;
    while (!event.empty()) {
        const size_t nl = event.find('\n');
        std::string_view line = event.substr(0, nl);
        event = nl == std::string_view::npos ? std::string_view() : event.substr(nl + 1);
        if (!line.starts_with("data:")) continue;
        line.remove_prefix(5);
        if (line.starts_with(' ')) line.remove_prefix(1);
        if (out) *out += '\n';
        else out.emplace();
        *out += line;
    }
    return out;
}

RequestResult run_request(httplib::Client& cli, const Target& t, const BenchArgs& a, int index) {
    RequestResult r;
    httplib::Request req;
    req.method = "POST";
    req.path = t.prefix + (a.chat ? "/v1/chat/completions" : "/v1/completions");
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
    if (!a.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + a.api_key);
    req.body = request_body(a, index);
    const auto start = Clock::now();
    auto last = start;
    int64_t chunks = 0;
    bool done = false, bad = false;
    std::string buffer;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        for (size_t i = 0; i < n; ++i) {
            if (data[i] != '\r') buffer += data[i];  // SSE lines may end in CRLF
        }
        for (size_t end; !bad && (end = buffer.find("\n\n")) != std::string::npos;) {
            const std::string event = buffer.substr(0, end);
            buffer.erase(0, end + 2);
            if (auto payload = sse_data(event)) bad = !on_sse_data(*payload, start, r, done, last, chunks);
        }
        return !bad;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool sent = cli.send(req, res, err);
    r.e2e = std::chrono::duration<double>(Clock::now() - start).count();
    if (r.tokens == 0) r.tokens = chunks;
    if (!r.error.empty()) return r;
    if (!sent) r.error = "transport error: " + httplib::to_string(err);
    else if (res.status != 200) r.error = fmt::format("HTTP {}: {}", res.status, buffer.substr(0, 200));
    else if (!done) r.error = "the stream ended without data: [DONE]";
    else if (r.finish_reason.empty()) r.error = "the stream ended without a finish_reason";
    else r.ok = true;
    return r;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double mean(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

json distribution_ms(const std::vector<double>& seconds) {
    return {{"mean", mean(seconds) * 1e3}, {"p50", percentile(seconds, 50) * 1e3},
            {"p90", percentile(seconds, 90) * 1e3}, {"p99", percentile(seconds, 99) * 1e3}};
}

// The report as JSON: counts, throughput and latency distributions of the successful requests.
json summarize(const BenchArgs& a, const std::vector<RequestResult>& results, double wall,
               std::string& first_error) {
    std::vector<double> ttft, itl, e2e, tpot;
    int64_t tokens = 0;
    int64_t streamed = 0;  // tokens that reached the client, failed requests included
    int ok = 0, without_usage = 0;
    std::map<std::string, int> finish_reasons;
    for (const RequestResult& r : results) {
        streamed += r.tokens;
        if (!r.ok) {
            if (first_error.empty()) first_error = r.error;
            continue;
        }
        ++ok;
        tokens += r.tokens;
        without_usage += r.usage ? 0 : 1;
        ++finish_reasons[r.finish_reason];
        ttft.push_back(r.ttft);
        e2e.push_back(r.e2e);
        itl.insert(itl.end(), r.itl.begin(), r.itl.end());
        // Chunks that reach the client together have no gap between them; the mean time per
        // token after the first does not depend on how the stream was cut into reads.
        if (r.tokens > 1) tpot.push_back((r.e2e - r.ttft) / static_cast<double>(r.tokens - 1));
    }
    json report = {{"url", a.url}, {"model", a.model}, {"endpoint", a.chat ? "chat" : "completions"},
            {"concurrency", a.concurrency}, {"requests", a.requests}, {"succeeded", ok},
            {"failed", a.requests - ok}, {"finish_reasons", finish_reasons},
            {"without_usage", without_usage}, {"max_tokens", a.max_tokens},
            {"prompt_words", a.prompt_len}, {"wall_seconds", wall}, {"generated_tokens", tokens},
            {"generated_tokens_per_second", wall > 0 ? static_cast<double>(tokens) / wall : 0.0},
            {"streamed_tokens", streamed},
            {"streamed_tokens_per_second", wall > 0 ? static_cast<double>(streamed) / wall : 0.0},
            {"requests_per_second", wall > 0 ? ok / wall : 0.0}, {"ttft_ms", distribution_ms(ttft)},
            {"itl_ms", distribution_ms(itl)}, {"tpot_ms", distribution_ms(tpot)},
            {"e2e_ms", distribution_ms(e2e)}};
    if (!first_error.empty()) report["first_error"] = first_error;
    return report;
}

void print_report(const BenchArgs& a, const std::vector<RequestResult>& results, double wall) {
    std::string first_error;
    const json report = summarize(a, results, wall, first_error);
    if (a.json_out) {
        std::printf("%s\n", report.dump(2).c_str());
    } else {
        std::printf("bench-serve: %s (%s), %d streams, %d requests, max_tokens %d, prompt ~%d words\n\n",
                    a.url.c_str(), a.chat ? "chat" : "completions", a.concurrency, a.requests,
                    a.max_tokens, a.prompt_len);
        std::printf("| metric | value |\n|---|---|\n");
        std::printf("| requests ok / failed | %d / %d |\n", report["succeeded"].get<int>(),
                    report["failed"].get<int>());
        std::printf("| finish reasons | %s |\n", report["finish_reasons"].dump().c_str());
        std::printf("| streams without usage | %d |\n", report["without_usage"].get<int>());
        std::printf("| wall time | %.2f s |\n", wall);
        std::printf("| generated tokens | %lld |\n", static_cast<long long>(report["generated_tokens"].get<int64_t>()));
        std::printf("| aggregate generated tokens/s | %.1f |\n", report["generated_tokens_per_second"].get<double>());
        std::printf("| tokens/s streamed (failed requests too) | %.1f |\n",
                    report["streamed_tokens_per_second"].get<double>());
        std::printf("| requests/s | %.2f |\n", report["requests_per_second"].get<double>());
        for (const char* key : {"ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"}) {
            const json& d = report[key];
            std::printf("| %s p50 / p90 / p99 (mean) | %.1f / %.1f / %.1f (%.1f) |\n", key,
                        d["p50"].get<double>(), d["p90"].get<double>(), d["p99"].get<double>(),
                        d["mean"].get<double>());
        }
    }
    if (!first_error.empty()) log::warn("bench-serve: first failure: {}", first_error);
}

Status run_bench_serve(const BenchArgs& a) {
    if (a.concurrency <= 0 || a.requests <= 0 || a.max_tokens <= 0 || a.prompt_len < 0) {
        return error("-c, -n and --max-tokens must be positive");
    }
    RF_ASSIGN_OR_RETURN(Target target, parse_url(a.url));
    std::vector<RequestResult> results(static_cast<size_t>(a.requests));
    std::atomic<int> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < std::min(a.concurrency, a.requests); ++w) {
        workers.emplace_back([&] {
            httplib::Client cli(target.origin);
            cli.set_keep_alive(true);
            cli.set_connection_timeout(10);
            cli.set_read_timeout(a.timeout);
            cli.set_write_timeout(a.timeout);
            for (int i; (i = next.fetch_add(1)) < a.requests;) {
                results[static_cast<size_t>(i)] = run_request(cli, target, a, i);
            }
        });
    }
    for (auto& t : workers) t.join();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    print_report(a, results, wall);
    const bool all_ok = std::all_of(results.begin(), results.end(), [](const RequestResult& r) { return r.ok; });
    return all_ok ? Status::ok() : error("some requests failed");
}

}  // namespace

void register_bench_serve(CLI::App& root, CommandContext& ctx) {
    auto a = std::make_shared<BenchArgs>();
    auto* cmd = root.add_subcommand("bench-serve", "Load-test an OpenAI-compatible server with streaming clients");
    cmd->add_option("--url", a->url, "Server base URL (http://host:port)");
    cmd->add_option("-c,--concurrency", a->concurrency, "Concurrent streaming clients");
    cmd->add_option("-n,--requests", a->requests, "Requests in total");
    cmd->add_option("--max-tokens", a->max_tokens, "max_tokens of every request");
    cmd->add_option("--prompt-len", a->prompt_len, "Prompt length in words (about one token each)");
    cmd->add_option("--api-key", a->api_key, "Sent as 'Authorization: Bearer KEY'");
    cmd->add_option("--model", a->model, "The request's 'model' field (servers such as vLLM check it)");
    cmd->add_option("--temperature", a->temperature, "Sampling temperature of every request");
    cmd->add_option("--timeout", a->timeout, "Per-request read timeout in seconds");
    cmd->add_flag("--chat", a->chat, "Use /v1/chat/completions instead of /v1/completions");
    cmd->add_flag("!--no-ignore-eos", a->ignore_eos, "Let requests stop at end-of-generation tokens");
    cmd->add_flag("--json", a->json_out, "Print the report as JSON");
    cmd->callback([a, &ctx] {
        const Status st = run_bench_serve(*a);
        ctx.exit_code = st ? 0 : report_error(st);
    });
}

}  // namespace rf::cli
