// Internal to the server module: the state HTTP handlers share and the route handlers
// (http_server.cpp wires them to paths). Only server .cpp files include cpp-httplib.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "server/api_error.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/serving_model.h"

namespace rf::server {

struct ServerCore {
    HttpOptions options;
    Metrics& metrics;
    std::atomic<ServingModel*> model{nullptr};
    std::atomic<bool> draining{false};
    std::atomic<int32_t> in_flight{0};
};

// Counts one generation request as in flight for the guard's lifetime.
class InFlightGuard {
public:
    explicit InFlightGuard(ServerCore& core) : core_(core) { ++core_.in_flight; }
    ~InFlightGuard() { --core_.in_flight; }
    InFlightGuard(const InFlightGuard&) = delete;
    InFlightGuard& operator=(const InFlightGuard&) = delete;

private:
    ServerCore& core_;
};

void send_json(httplib::Response& res, const Json& body, int status = 200);
void send_error(httplib::Response& res, const ApiError& error);
// The model when requests can be served; otherwise answers 503 and returns null.
ServingModel* ready_model(ServerCore& core, httplib::Response& res);

// POST /v1/completions (chat = false) and /v1/chat/completions (chat = true).
void handle_generation(ServerCore& core, const httplib::Request& req, httplib::Response& res,
                       const std::string& body, bool chat);
void handle_models(ServerCore& core, const httplib::Request& req, httplib::Response& res);
void handle_model(ServerCore& core, const httplib::Request& req, httplib::Response& res);
void handle_health(ServerCore& core, const httplib::Request& req, httplib::Response& res);
void handle_metrics(ServerCore& core, const httplib::Request& req, httplib::Response& res);
void handle_tokenize(ServerCore& core, const httplib::Request& req, httplib::Response& res,
                     const std::string& body);
void handle_detokenize(ServerCore& core, const httplib::Request& req, httplib::Response& res,
                       const std::string& body);

}  // namespace rf::server
