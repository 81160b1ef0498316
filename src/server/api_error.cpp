// OpenAI-shaped error bodies and the one JSON serialiser every response goes through.
#include "server/api_error.h"

namespace rf::server {

ApiError invalid_request(std::string message, std::string param, std::string code) {
    ApiError e;
    e.status = 400;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

Json error_json(const ApiError& error) {
    Json body = Json::object();
    body["message"] = error.message;
    body["type"] = error.type;
    body["param"] = error.param.empty() ? Json(nullptr) : Json(error.param);
    body["code"] = error.code.empty() ? Json(nullptr) : Json(error.code);
    Json out = Json::object();
    out["error"] = std::move(body);
    return out;
}

std::string dump_json(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace rf::server
