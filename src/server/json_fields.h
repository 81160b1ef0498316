// Reading untrusted JSON request bodies: bounded parsing, then typed field access that reports
// the first wrong type or out-of-range value as an OpenAI-shaped 400 naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace rf::server {

inline constexpr int kMaxJsonDepth = 64;

// Parses `body` into `out`. Errors: empty body, nesting deeper than kMaxJsonDepth, syntax
// errors (with line and column), a top level that is not an object.
std::optional<ApiError> parse_json_body(std::string_view body, Json& out);

// Typed getters over one JSON object. An absent or null field leaves `out` unchanged; the first
// error is kept and later calls do nothing.
class FieldReader {
public:
    explicit FieldReader(const Json& object) : object_(object) {}

    bool has(const char* key) const;  // present and not null
    const Json* get(const char* key) const;  // present and not null, else nullptr

    void number(const char* key, float& out, double lo, double hi);
    void integer(const char* key, int32_t& out, int64_t lo, int64_t hi);
    void seed(const char* key, std::optional<uint64_t>& out);
    void boolean(const char* key, bool& out);
    void string(const char* key, std::string& out, size_t max_bytes);
    // A string or an array of strings (`stop`).
    void strings(const char* key, std::vector<std::string>& out, size_t max_count, size_t max_bytes);

    void fail(std::string message, std::string param);
    bool ok() const { return !error_.has_value(); }
    const std::optional<ApiError>& error() const { return error_; }

private:
    const Json& object_;
    std::optional<ApiError> error_;
};

// object[key] when `object` is an object holding `key` (null values included), else nullptr.
const Json* member(const Json& object, const char* key);

// The JSON type name as an API user would say it ("string", "integer", "array" ...).
const char* json_type_name(const Json& j);

}  // namespace rf::server
