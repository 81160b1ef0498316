// Bounded JSON parsing and typed field access for request bodies.
#include "server/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace rf::server {
namespace {

// Deepest nesting of arrays/objects outside string literals. Checked before parsing so a body of
// a million '[' is refused cheaply instead of building (and later destroying) a deep tree.
int nesting_depth(std::string_view s) {
    int depth = 0;
    int max_depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
        else if (c == ']' || c == '}') --depth;
    }
    return max_depth;
}

}  // namespace

const char* json_type_name(const Json& j) {
    switch (j.type()) {
        case Json::value_t::null: return "null";
        case Json::value_t::object: return "object";
        case Json::value_t::array: return "array";
        case Json::value_t::string: return "string";
        case Json::value_t::boolean: return "boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned: return "integer";
        case Json::value_t::number_float: return "number";
        default: return "unsupported value";
    }
}

std::optional<ApiError> parse_json_body(std::string_view body, Json& out) {
    if (body.empty()) return invalid_request("the request body is empty; a JSON object is expected");
    if (nesting_depth(body) > kMaxJsonDepth) {
        return invalid_request(fmt::format("the JSON body nests deeper than {} levels", kMaxJsonDepth));
    }
    // nlohmann reports the position of a syntax error only through its exception; it is caught
    // right here and never crosses into the server.
    try {
        out = Json::parse(body.begin(), body.end());
    } catch (const Json::parse_error& e) {
        std::string what = e.what();
        const size_t cut = what.find("] ");
        if (cut != std::string::npos) what = what.substr(cut + 2);
        return invalid_request("the request body is not valid JSON: " + what, "", "invalid_json");
    }
    if (!out.is_object()) {
        return invalid_request(fmt::format("the request body must be a JSON object, not {}",
                                           json_type_name(out)));
    }
    return std::nullopt;
}

const Json* member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    if (it == object.end()) return nullptr;
    return &*it;
}

bool FieldReader::has(const char* key) const { return get(key) != nullptr; }

const Json* FieldReader::get(const char* key) const {
    const Json* v = member(object_, key);
    return v != nullptr && !v->is_null() ? v : nullptr;
}

void FieldReader::fail(std::string message, std::string param) {
    if (!error_) error_ = invalid_request(std::move(message), std::move(param));
}

void FieldReader::number(const char* key, float& out, double lo, double hi) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    if (!v->is_number()) {
        return fail(fmt::format("'{}' must be a number, not {}", key, json_type_name(*v)), key);
    }
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
        return fail(fmt::format("'{}' must be between {} and {}, got {}", key, lo, hi, d), key);
    }
    out = static_cast<float>(d);
}

void FieldReader::integer(const char* key, int32_t& out, int64_t lo, int64_t hi) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    int64_t i = 0;
    if (v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi)) {
            return fail(fmt::format("'{}' must be between {} and {}", key, lo, hi), key);
        }
        i = v->get<int64_t>();
    } else if (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>() &&
               std::fabs(v->get<double>()) < 9e15) {
        i = static_cast<int64_t>(v->get<double>());
    } else {
        return fail(fmt::format("'{}' must be an integer, not {}", key, json_type_name(*v)), key);
    }
    if (i < lo || i > hi) {
        return fail(fmt::format("'{}' must be between {} and {}, got {}", key, lo, hi, i), key);
    }
    out = static_cast<int32_t>(i);
}

void FieldReader::seed(const char* key, std::optional<uint64_t>& out) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    if (!v->is_number_integer()) {
        return fail(fmt::format("'{}' must be an integer, not {}", key, json_type_name(*v)), key);
    }
    out = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
}

void FieldReader::boolean(const char* key, bool& out) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    if (!v->is_boolean()) {
        return fail(fmt::format("'{}' must be a boolean, not {}", key, json_type_name(*v)), key);
    }
    out = v->get<bool>();
}

void FieldReader::string(const char* key, std::string& out, size_t max_bytes) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    if (!v->is_string()) {
        return fail(fmt::format("'{}' must be a string, not {}", key, json_type_name(*v)), key);
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max_bytes) {
        return fail(fmt::format("'{}' is longer than {} bytes", key, max_bytes), key);
    }
    out = s;
}

void FieldReader::strings(const char* key, std::vector<std::string>& out, size_t max_count,
                          size_t max_bytes) {
    const Json* v = ok() ? get(key) : nullptr;
    if (v == nullptr) return;
    std::vector<std::string> result;
    auto take = [&](const Json& item) {
        if (!item.is_string()) {
            fail(fmt::format("'{}' must be a string or an array of strings; found {}", key,
                             json_type_name(item)), key);
            return;
        }
        const auto& s = item.get_ref<const std::string&>();
        if (s.size() > max_bytes) {
            fail(fmt::format("each '{}' entry must be at most {} bytes", key, max_bytes), key);
            return;
        }
        result.push_back(s);
    };
    if (v->is_array()) {
        if (v->size() > max_count) {
            return fail(fmt::format("'{}' holds at most {} entries, got {}", key, max_count, v->size()),
                        key);
        }
        for (const Json& item : *v) take(item);
    } else {
        take(*v);
    }
    if (ok()) out = std::move(result);
}

}  // namespace rf::server
