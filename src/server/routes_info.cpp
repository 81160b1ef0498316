// GET /v1/models, /v1/models/{id}, /health, /metrics and POST /tokenize, /detokenize.
#include <fmt/format.h>

#include "server/http_core.h"
#include "server/json_fields.h"

namespace rf::server {
namespace {

Json model_json(const ServingModel& m) {
    Json j = Json::object();
    j["id"] = m.id;
    j["object"] = "model";
    j["created"] = m.created;
    j["owned_by"] = "rocmforge";
    return j;
}

// Pieces as text, or as byte values when a piece is not valid UTF-8 on its own.
Json piece_json(const std::string& piece) {
    size_t i = 0;
    while (i < piece.size()) {
        const unsigned char c = static_cast<unsigned char>(piece[i]);
        const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || i + len > piece.size()) break;
        bool ok = true;
        for (size_t k = 1; k < len; ++k) ok = ok && (static_cast<unsigned char>(piece[i + k]) >> 6) == 0x2;
        if (!ok) break;
        i += len;
    }
    if (i == piece.size()) return piece;
    Json bytes = Json::array();
    for (unsigned char c : piece) bytes.push_back(static_cast<int>(c));
    return bytes;
}

}  // namespace

void handle_models(ServerCore& core, const httplib::Request&, httplib::Response& res) {
    ServingModel* m = ready_model(core, res);
    if (m == nullptr) return;
    Json out = Json::object();
    out["object"] = "list";
    out["data"] = Json::array({model_json(*m)});
    send_json(res, out);
}

void handle_model(ServerCore& core, const httplib::Request& req, httplib::Response& res) {
    ServingModel* m = ready_model(core, res);
    if (m == nullptr) return;
    const std::string id = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
    if (id != m->id) {
        ApiError e;
        e.status = 404;
        e.message = fmt::format("The model '{}' does not exist; this server serves '{}'.", id, m->id);
        e.param = "model";
        e.code = "model_not_found";
        return send_error(res, e);
    }
    send_json(res, model_json(*m));
}

void handle_health(ServerCore& core, const httplib::Request&, httplib::Response& res) {
    if (core.draining.load()) return send_json(res, Json{{"status", "shutting down"}}, 503);
    if (core.model.load() == nullptr) return send_json(res, Json{{"status", "loading"}}, 503);
    send_json(res, Json{{"status", "ok"}});
}

void handle_metrics(ServerCore& core, const httplib::Request&, httplib::Response& res) {
    ServingModel* m = core.model.load();
    engine::SchedulerStats stats;
    if (m != nullptr) stats = m->scheduler->stats();
    res.set_content(core.metrics.render(m != nullptr ? &stats : nullptr, core.in_flight.load(),
                                        m != nullptr && !core.draining.load()),
                    "text/plain; version=0.0.4; charset=utf-8");
}

// {"content": text, "add_special": true, "parse_special": true, "with_pieces": false}
void handle_tokenize(ServerCore& core, const httplib::Request&, httplib::Response& res,
                     const std::string& body) {
    ServingModel* m = ready_model(core, res);
    if (m == nullptr) return;
    Json json;
    if (auto e = parse_json_body(body, json)) return send_error(res, *e);
    FieldReader f(json);
    std::string content;
    bool add_special = true, parse_special = true, with_pieces = false;
    if (!f.has("content")) f.fail("'content' is required", "content");
    f.string("content", content, core.options.max_body_bytes);
    f.boolean("add_special", add_special);
    f.boolean("parse_special", parse_special);
    f.boolean("with_pieces", with_pieces);
    if (!f.ok()) return send_error(res, *f.error());
    const auto ids = m->tokenizer->encode(content, add_special, parse_special);
    Json tokens = Json::array();
    for (int32_t id : ids) {
        if (!with_pieces) {
            tokens.push_back(id);
            continue;
        }
        tokens.push_back(Json{{"id", id}, {"piece", piece_json(m->tokenizer->token_to_piece(id))}});
    }
    send_json(res, Json{{"tokens", std::move(tokens)}});
}

// {"tokens": [ids]} -> {"content": text}
void handle_detokenize(ServerCore& core, const httplib::Request&, httplib::Response& res,
                       const std::string& body) {
    ServingModel* m = ready_model(core, res);
    if (m == nullptr) return;
    Json json;
    if (auto e = parse_json_body(body, json)) return send_error(res, *e);
    const Json* it = member(json, "tokens");
    if (it == nullptr || !it->is_array()) {
        return send_error(res, invalid_request("'tokens' must be an array of token ids", "tokens"));
    }
    std::vector<int32_t> ids;
    ids.reserve(it->size());
    const int32_t n_vocab = m->tokenizer->n_vocab();
    for (const Json& v : *it) {
        bool valid = v.is_number_integer();
        if (valid && v.is_number_unsigned()) valid = v.get<uint64_t>() < static_cast<uint64_t>(n_vocab);
        else if (valid) valid = v.get<int64_t>() >= 0 && v.get<int64_t>() < n_vocab;
        if (!valid) {
            return send_error(res, invalid_request(
                fmt::format("'tokens' must hold token ids in [0, {})", n_vocab), "tokens"));
        }
        ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    send_json(res, Json{{"content", m->tokenizer->decode(ids)}});
}

}  // namespace rf::server
