// The OpenAI-compatible HTTP/1.1 server: routes, API-key check, body limits, SSE streaming and
// the loading / ready / draining life cycle. HTTP threads parse and validate requests, hand
// sequences to the engine's Scheduler and relay its events; they never run the model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/metrics.h"
#include "server/serving_model.h"

namespace rf::server {

struct HttpOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                     // 0: any free port (read it back with port())
    std::string api_key;                 // empty: no authentication
    size_t max_body_bytes = 8u << 20;    // larger bodies are refused with 413
    int timeout_s = 600;                 // socket read / write timeout
    int keep_alive_s = 5;                // idle keep-alive connections close after this
    int n_threads = 64;                  // connection threads (each open connection holds one)
};

class HttpServer {
public:
    HttpServer(HttpOptions options, Metrics& metrics);
    ~HttpServer();  // stops serving and joins
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the listening socket (an error names the address).
    Status bind();
    int port() const;
    // Serves on a background thread. Until set_model(), /health answers 503 "loading" and the
    // model endpoints 503.
    void start();
    // Publishes the loaded model; it must outlive the server.
    void set_model(ServingModel* model);
    // Stops accepting connections; requests still arriving on open connections get 503 and
    // /health reports 503 while in-flight responses finish.
    void begin_drain();
    // Generation requests whose responses are still being written.
    int32_t in_flight() const;
    // Waits until the serving thread has ended (after begin_drain, once open connections close).
    void join();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace rf::server
