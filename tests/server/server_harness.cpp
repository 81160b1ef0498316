// In-process server for tests and the client-side helpers.
#include "server_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/log.h"
#include "test_model.h"

namespace rf::testing {

namespace {

// This process's model files; removed when the process exits.
struct ModelDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("rf_server_test_" + std::to_string(::getpid()));
    ModelDir() { std::filesystem::create_directories(path); }
    ~ModelDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::string write_model(const std::string& name, const ServerModelConfig& config) {
    static ModelDir dir;
    const std::string p = (dir.path / name).string();
    const Status st = write_server_test_model(p, config);
    if (!st) {
        std::fprintf(stderr, "cannot write %s: %s\n", p.c_str(), st.message().c_str());
        std::abort();
    }
    return p;
}

}  // namespace

const std::string& server_test_model_path() {
    static const std::string path = write_model("tiny.gguf", ServerModelConfig{});
    return path;
}

const std::string& slow_server_test_model_path() {
    static const std::string path = [] {
        ServerModelConfig c;
        c.n_embd = 256;
        c.n_layer = 4;
        c.n_ctx_train = 4096;
        return write_model("slow.gguf", c);
    }();
    return path;
}

Result<std::unique_ptr<ServerHarness>> ServerHarness::start(const HarnessOptions& o) {
    if (std::getenv("RF_TEST_DEBUG") != nullptr) log::set_level(log::Level::kDebug);
    auto h = std::unique_ptr<ServerHarness>(new ServerHarness());
    h->options_ = o;
    server::HttpOptions ho;
    ho.port = 0;
    ho.api_key = o.api_key;
    ho.max_body_bytes = o.max_body;
    ho.timeout_s = 30;
    ho.n_threads = 64;
    h->http_ = std::make_unique<server::HttpServer>(ho, h->metrics_);
    RF_RETURN_IF_ERROR(h->http_->bind());
    h->http_->start();
    if (!o.load_model) return h;

    const std::string& path = o.slow_model ? slow_server_test_model_path() : server_test_model_path();
    RF_ASSIGN_OR_RETURN(h->bundle_, model::open_model(path, {o.threads}));
    engine::SchedulerParams sp;
    sp.n_parallel = o.parallel;
    sp.n_ctx = o.ctx;
    sp.max_queue = o.max_queue;
    sp.n_cached_seqs = o.cache_seqs;
    sp.kv_tokens = o.kv_tokens;
    RF_ASSIGN_OR_RETURN(h->scheduler_,
                        engine::Scheduler::create(*h->bundle_.model, *h->bundle_.tokenizer, sp));
    h->serving_.id = "tiny";
    h->serving_.tokenizer = h->bundle_.tokenizer.get();
    h->serving_.scheduler = h->scheduler_.get();
    h->serving_.bos_text = "<s>";
    h->serving_.eos_text = "</s>";
    RF_RETURN_IF_ERROR(server::load_chat_template(h->serving_, h->bundle_.chat_template));
    h->http_->set_model(&h->serving_);
    return h;
}

ServerHarness::~ServerHarness() {
    if (scheduler_) scheduler_->close();
    http_->begin_drain();
    if (scheduler_) scheduler_->cancel_all();
    http_->join();
}

std::unique_ptr<httplib::Client> ServerHarness::client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port());
    c->set_keep_alive(true);
    c->set_read_timeout(60);
    if (!options_.api_key.empty()) {
        c->set_default_headers({{"Authorization", "Bearer " + options_.api_key}});
    }
    return c;
}

namespace {

JsonResponse to_json_response(const httplib::Result& r) {
    JsonResponse out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = Json::parse(r->body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    return out;
}

}  // namespace

JsonResponse post_json(httplib::Client& client, const std::string& path, const Json& body) {
    return post_raw(client, path, body.dump());
}

JsonResponse post_raw(httplib::Client& client, const std::string& path, const std::string& body) {
    return to_json_response(client.Post(path, body, "application/json"));
}

JsonResponse get_json(httplib::Client& client, const std::string& path) {
    return to_json_response(client.Get(path));
}

SseResponse post_sse(httplib::Client& client, const std::string& path, const Json& body) {
    SseResponse out;
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
    std::string buffer;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        out.raw.append(data, n);
        buffer.append(data, n);
        for (size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
            const std::string event = buffer.substr(0, end);
            buffer.erase(0, end + 2);
            if (event.rfind("data: ", 0) != 0) continue;
            const std::string payload = event.substr(6);
            if (payload == "[DONE]") {
                out.done = true;
                continue;
            }
            out.events.push_back(Json::parse(payload, nullptr, false));
        }
        return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    if (client.send(req, res, err)) out.status = res.status;
    if (out.status != 200 && out.raw.empty()) out.raw = res.body;
    return out;
}

std::string sse_text(const SseResponse& r, int index) {
    std::string text;
    for (const Json& e : r.events) {
        if (!e.is_object() || !e.contains("choices")) continue;
        for (const Json& c : e["choices"]) {
            if (c["index"] != index) continue;
            if (c.contains("text")) text += c["text"].get<std::string>();
            if (c.contains("delta") && c["delta"].contains("content")) {
                text += c["delta"]["content"].get<std::string>();
            }
        }
    }
    return text;
}

std::map<std::string, double> scrape_metrics(httplib::Client& client) {
    std::map<std::string, double> out;
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return out;
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const size_t space = line.rfind(' ');
        if (space == std::string::npos) continue;
        out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
    }
    return out;
}

int connect_loopback(int port, int source) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (source > 1) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl((127u << 24) | static_cast<uint32_t>(source & 0xff));
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
            ::close(fd);
            return -1;
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace rf::testing
