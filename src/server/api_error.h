// OpenAI-shaped API errors: {"error": {"message", "type", "param", "code"}} with an HTTP status.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace rf::server {

// Requests and responses keep their keys in insertion order (readable output, chat templates
// that iterate objects).
using Json = nlohmann::ordered_json;

struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string param;  // the offending request field; "" is sent as null
    std::string code;   // a machine-readable code; "" is sent as null
};

// 400 invalid_request_error naming `param`.
ApiError invalid_request(std::string message, std::string param = {}, std::string code = {});
// The error's JSON body.
Json error_json(const ApiError& error);
// Serialises JSON for the wire: compact, invalid UTF-8 replaced rather than thrown on.
std::string dump_json(const Json& j);

}  // namespace rf::server
