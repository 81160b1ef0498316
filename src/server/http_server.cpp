// cpp-httplib wiring: connection threads, timeouts, bounded body reading, the API-key check,
// OpenAI-shaped errors for everything the router itself refuses, and the server's life cycle.
#include "server/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "core/log.h"
#include "server/http_core.h"

namespace rf::server {
namespace {

using httplib::Request;
using httplib::Response;
using BodyHandler = void (*)(ServerCore&, const Request&, Response&, const std::string&);

constexpr int kListenBacklog = 1024;

// Compares without an early exit so response timing does not reveal how much of a key matched.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned>(a[i]) ^ static_cast<unsigned>(b.empty() ? 0 : b[i % b.size()]);
    }
    return diff == 0;
}

// True when the request may proceed; otherwise answers 401.
bool authorized(const ServerCore& core, const Request& req, Response& res) {
    const std::string& key = core.options.api_key;
    if (key.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view given;
    if (header.size() > kBearer.size() && std::string_view(header).substr(0, kBearer.size()) == kBearer) {
        given = std::string_view(header).substr(kBearer.size());
    }
    ApiError e;
    e.status = 401;
    if (given.empty()) {
        e.message = "Missing API key: send it as 'Authorization: Bearer <key>'.";
        e.code = "missing_api_key";
    } else if (!same_secret(given, key)) {
        e.message = "Incorrect API key provided.";
        e.code = "invalid_api_key";
    } else {
        return true;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, e);
    return false;
}

// Reads the body through `reader`, at most max_body_bytes; answers 413 / 400 on failure.
bool read_body(const ServerCore& core, const httplib::ContentReader& reader, Response& res,
               std::string& body) {
    const size_t limit = core.options.max_body_bytes;
    bool too_large = false;
    const bool ok = reader([&](const char* data, size_t n) {
        if (body.size() + n > limit) {
            too_large = true;
            return false;
        }
        body.append(data, n);
        return true;
    });
    if (ok) return true;
    ApiError e;
    if (too_large || res.status == 413) {
        e.status = 413;
        e.message = fmt::format("The request body is larger than the server's limit of {} bytes.", limit);
        e.code = "request_too_large";
    } else {
        e.message = "The request body could not be read (truncated or malformed).";
    }
    res.set_header("Connection", "close");
    send_error(res, e);
    return false;
}

void fill_router_error(const Request& req, Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote its own error
    ApiError e;
    e.status = res.status;
    switch (res.status) {
        case 404:
            e.message = fmt::format("Unknown endpoint: {} {}", req.method, req.path);
            e.code = "not_found";
            break;
        case 413:
            e.message = "The request body is larger than the server's limit.";
            e.code = "request_too_large";
            break;
        case 400: e.message = "Malformed HTTP request."; break;
        default:
            e.message = fmt::format("HTTP error {}", res.status);
            e.type = res.status >= 500 ? "server_error" : "invalid_request_error";
    }
    res.set_content(dump_json(error_json(e)), "application/json");
}

}  // namespace

// cpp-httplib listens with a backlog of 5 (a compile-time constant of the packaged library): a
// burst of new connections overflows it and the kernel drops SYNs, which clients retry only
// after a second. Linux lets listen() be called again on a listening socket to enlarge it.
class Listener : public httplib::Server {
public:
    bool enlarge_backlog(int backlog) {
        const socket_t sock = svr_sock_;
        return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
    }
};

struct HttpServer::Impl {
    Impl(HttpOptions options, Metrics& metrics) : core{std::move(options), metrics} {}
    ServerCore core;
    Listener http;
    std::thread thread;
    int port = -1;
    std::atomic<bool> serving_done{false};
    std::atomic<bool> stop_requested{false};

    void stop_listening();

    void post(const std::string& path, BodyHandler handler);
    void configure();
};

void HttpServer::Impl::post(const std::string& path, BodyHandler handler) {
    ServerCore* c = &core;
    http.Post(path, [c, handler](const Request& req, Response& res, const httplib::ContentReader& reader) {
        std::string body;
        if (!read_body(*c, reader, res, body)) return;
        if (!authorized(*c, req, res)) return;
        handler(*c, req, res, body);
    });
    // Requests without a body take the plain route.
    http.Post(path, [c, handler](const Request& req, Response& res) {
        if (!authorized(*c, req, res)) return;
        handler(*c, req, res, req.body);
    });
}

void HttpServer::Impl::configure() {
    ServerCore* c = &core;
    const size_t n_threads = static_cast<size_t>(std::max(4, core.options.n_threads));
    http.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
    http.set_keep_alive_max_count(1u << 20);
    http.set_keep_alive_timeout(core.options.keep_alive_s);
    http.set_read_timeout(core.options.timeout_s);
    http.set_write_timeout(core.options.timeout_s);
    http.set_payload_max_length(core.options.max_body_bytes);
    http.set_tcp_nodelay(true);
    http.set_error_handler([](const Request& req, Response& res) { fill_router_error(req, res); });
    http.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        log::error("server: internal error: {}", what);
        ApiError e;
        e.status = 500;
        e.type = "server_error";
        e.message = "Internal server error: " + what;
        send_error(res, e);
    });
    http.set_logger([c](const Request& req, const Response& res) {
        c->metrics.count_request(req.path, res.status);
        log::debug("server: {} {} -> {}", req.method, req.path, res.status);
    });

    auto get = [this, c](const std::string& path, auto handler, bool guarded) {
        http.Get(path, [c, handler, guarded](const Request& req, Response& res) {
            if (guarded && !authorized(*c, req, res)) return;
            handler(*c, req, res);
        });
    };
    get("/health", handle_health, false);
    get("/metrics", handle_metrics, true);
    get("/v1/models", handle_models, true);
    get("/v1/models/(.+)", handle_model, true);
    post("/v1/completions", [](ServerCore& k, const Request& q, Response& r, const std::string& b) {
        handle_generation(k, q, r, b, false);
    });
    post("/completions", [](ServerCore& k, const Request& q, Response& r, const std::string& b) {
        handle_generation(k, q, r, b, false);
    });
    post("/v1/chat/completions", [](ServerCore& k, const Request& q, Response& r, const std::string& b) {
        handle_generation(k, q, r, b, true);
    });
    post("/chat/completions", [](ServerCore& k, const Request& q, Response& r, const std::string& b) {
        handle_generation(k, q, r, b, true);
    });
    post("/tokenize", handle_tokenize);
    post("/detokenize", handle_detokenize);
}

// cpp-httplib's stop() does nothing until the accept loop has started (a stop right after
// start(), e.g. when the model fails to load, would leave join() waiting forever), and must run
// only once.
void HttpServer::Impl::stop_listening() {
    if (!thread.joinable() || stop_requested.exchange(true)) return;
    while (!http.is_running() && !serving_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    http.stop();
}

HttpServer::HttpServer(HttpOptions options, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {
    impl_->configure();
}

HttpServer::~HttpServer() {
    if (impl_->thread.joinable()) {
        impl_->core.draining = true;
        impl_->stop_listening();
        impl_->thread.join();
    }
}

Status HttpServer::bind() {
    const HttpOptions& o = impl_->core.options;
    if (o.port == 0) {
        impl_->port = impl_->http.bind_to_any_port(o.host);
        if (impl_->port <= 0) return error("cannot listen on {} (any port)", o.host);
    } else {
        if (o.port < 0 || o.port > 65535) return error("port {} is out of range", o.port);
        if (!impl_->http.bind_to_port(o.host, o.port)) {
            return error("cannot listen on {}:{} (address in use or not available)", o.host, o.port);
        }
        impl_->port = o.port;
    }
    if (!impl_->http.enlarge_backlog(kListenBacklog)) {
        log::warn("server: could not enlarge the listen backlog; connection bursts may stall");
    }
    return Status::ok();
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::start() {
    impl_->thread = std::thread([impl = impl_.get()] {
        impl->http.listen_after_bind();
        impl->serving_done = true;
    });
}

void HttpServer::set_model(ServingModel* model) { impl_->core.model.store(model); }

void HttpServer::begin_drain() {
    impl_->core.draining = true;
    impl_->stop_listening();
}

int32_t HttpServer::in_flight() const { return impl_->core.in_flight.load(); }

void HttpServer::join() {
    if (impl_->thread.joinable()) impl_->thread.join();
}

void send_json(httplib::Response& res, const Json& body, int status) {
    res.status = status;
    res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
    send_json(res, error_json(error), error.status);
}

ServingModel* ready_model(ServerCore& core, httplib::Response& res) {
    ApiError e;
    e.status = 503;
    e.type = "server_error";
    if (core.draining.load()) {
        e.message = "The server is shutting down.";
        e.code = "shutting_down";
    } else if (ServingModel* m = core.model.load(); m != nullptr) {
        return m;
    } else {
        e.message = "The model is still loading; retry shortly.";
        e.code = "model_loading";
    }
    res.set_header("Retry-After", "1");
    send_error(res, e);
    return nullptr;
}

}  // namespace rf::server
