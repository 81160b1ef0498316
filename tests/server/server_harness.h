// Starts the real HTTP server (scheduler, model, cpp-httplib) in-process on a loopback port for
// tests, plus small client helpers: JSON posts, SSE streams, raw sockets, /metrics scraping.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/scheduler.h"
#include "model/model_bundle.h"
#include "server/api_error.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/serving_model.h"

namespace rf::testing {

using Json = server::Json;

// The shared test model files (written once per test process into a temp directory). The
// "slow" one is wider and deeper, so a long generation outlasts a test's reaction time.
const std::string& server_test_model_path();
const std::string& slow_server_test_model_path();

struct HarnessOptions {
    int parallel = 4;
    int ctx = 512;
    int max_queue = 32;
    int cache_seqs = -1;
    int64_t kv_tokens = 0;
    std::string api_key = "test-key";
    size_t max_body = 64 * 1024;
    int threads = 1;         // engine threads: a second one mostly waits on a busy 2-core machine
    bool load_model = true;  // false: the server stays in the "loading" state
    bool slow_model = false; // serve slow_server_test_model_path()
};

class ServerHarness {
public:
    static Result<std::unique_ptr<ServerHarness>> start(const HarnessOptions& options);
    ~ServerHarness();

    int port() const { return http_->port(); }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    // A keep-alive client that sends the API key.
    std::unique_ptr<httplib::Client> client() const;
    engine::SchedulerStats stats() const { return scheduler_->stats(); }
    engine::Scheduler& scheduler() { return *scheduler_; }
    server::HttpServer& http() { return *http_; }
    const HarnessOptions& options() const { return options_; }

private:
    ServerHarness() = default;
    HarnessOptions options_;
    server::Metrics metrics_;
    model::ModelBundle bundle_;
    std::unique_ptr<engine::Scheduler> scheduler_;
    server::ServingModel serving_;
    std::unique_ptr<server::HttpServer> http_;
};

struct JsonResponse {
    int status = 0;  // 0: transport error
    Json body;       // null when the body is not JSON
    std::string raw;
    httplib::Headers headers;
};
JsonResponse post_json(httplib::Client& client, const std::string& path, const Json& body);
JsonResponse post_raw(httplib::Client& client, const std::string& path, const std::string& body);
JsonResponse get_json(httplib::Client& client, const std::string& path);

struct SseResponse {
    int status = 0;
    std::vector<Json> events;  // parsed data: payloads, [DONE] excluded
    bool done = false;         // saw data: [DONE]
    std::string raw;
};
SseResponse post_sse(httplib::Client& client, const std::string& path, const Json& body);
// Concatenated text of an SSE completion or chat stream for choice `index`.
std::string sse_text(const SseResponse& r, int index = 0);

// /metrics as "name{labels}" -> value.
std::map<std::string, double> scrape_metrics(httplib::Client& client);

// A blocking TCP socket connected to 127.0.0.1:port (-1 on failure). `source` > 1 binds the
// client end to 127.0.0.<source>: storms of short connections then do not trip over TIME_WAIT
// entries of earlier connections with the same ports (a kernel SYN retry costs 1 s).
int connect_loopback(int port, int source = 0);
bool send_all(int fd, const std::string& data);

}  // namespace rf::testing
