// Metadata value helpers: constructors for common arrays, checked accessors, display rendering.
#include "gguf/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/check.h"

namespace rf::gguf {

std::string_view value_type_name(ValueType type) {
    switch (type) {
        case ValueType::kUint8:
            return "u8";
        case ValueType::kInt8:
            return "i8";
        case ValueType::kUint16:
            return "u16";
        case ValueType::kInt16:
            return "i16";
        case ValueType::kUint32:
            return "u32";
        case ValueType::kInt32:
            return "i32";
        case ValueType::kFloat32:
            return "f32";
        case ValueType::kBool:
            return "bool";
        case ValueType::kString:
            return "string";
        case ValueType::kArray:
            return "array";
        case ValueType::kUint64:
            return "u64";
        case ValueType::kInt64:
            return "i64";
        case ValueType::kFloat64:
            return "f64";
    }
    return "unknown";
}

Value Value::string_array(const std::vector<std::string>& strings) {
    std::vector<Value> items;
    items.reserve(strings.size());
    for (const std::string& s : strings) items.push_back(Value::string(s));
    return array(ValueType::kString, std::move(items));
}

Value Value::f32_array(const std::vector<float>& values) {
    std::vector<Value> items;
    items.reserve(values.size());
    for (float v : values) items.push_back(Value::f32(v));
    return array(ValueType::kFloat32, std::move(items));
}

Value Value::i32_array(const std::vector<int32_t>& values) {
    std::vector<Value> items;
    items.reserve(values.size());
    for (int32_t v : values) items.push_back(Value::i32(v));
    return array(ValueType::kInt32, std::move(items));
}

bool Value::is_integer() const {
    switch (type) {
        case ValueType::kUint8:
        case ValueType::kInt8:
        case ValueType::kUint16:
        case ValueType::kInt16:
        case ValueType::kUint32:
        case ValueType::kInt32:
        case ValueType::kUint64:
        case ValueType::kInt64:
            return true;
        default:
            return false;
    }
}

uint64_t Value::as_u64() const {
    if (const uint64_t* u = std::get_if<uint64_t>(&data)) return *u;
    const int64_t* i = std::get_if<int64_t>(&data);
    RF_CHECK_MSG(i != nullptr && *i >= 0, "Value::as_u64 on a non-integer or negative value");
    return static_cast<uint64_t>(*i);
}

int64_t Value::as_i64() const {
    if (const int64_t* i = std::get_if<int64_t>(&data)) return *i;
    const uint64_t* u = std::get_if<uint64_t>(&data);
    RF_CHECK_MSG(u != nullptr && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                 "Value::as_i64 on a non-integer or out-of-range value");
    return static_cast<int64_t>(*u);
}

double Value::as_f64() const {
    if (const double* d = std::get_if<double>(&data)) return *d;
    if (const uint64_t* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
    const int64_t* i = std::get_if<int64_t>(&data);
    RF_CHECK_MSG(i != nullptr, "Value::as_f64 on a non-numeric value");
    return static_cast<double>(*i);
}

bool operator==(const Array& a, const Array& b) {
    return a.element_type == b.element_type && a.items == b.items;
}

bool operator==(const Value& a, const Value& b) {
    return a.type == b.type && a.data == b.data;
}

namespace {

constexpr size_t kMaxDisplayChars = 96;

// Quotes a string, escaping control characters, cut after kMaxDisplayChars bytes.
std::string quote(const std::string& s) {
    std::string out = "\"";
    const size_t n = std::min(s.size(), kMaxDisplayChars);
    for (size_t i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if (s.size() > n) out += fmt::format("...({} bytes)", s.size());
    return out;
}

}  // namespace

std::string Value::to_display_string(size_t max_items) const {
    switch (type) {
        case ValueType::kBool:
            return as_bool() ? "true" : "false";
        case ValueType::kString:
            return quote(as_string());
        case ValueType::kFloat32:
        case ValueType::kFloat64:
            return fmt::format("{}", as_f64());
        case ValueType::kArray: {
            const Array& a = as_array();
            std::string out = "[";
            const size_t n = std::min(a.items.size(), max_items);
            for (size_t i = 0; i < n; ++i) {
                if (i > 0) out += ", ";
                out += a.items[i].to_display_string(max_items);
            }
            if (a.items.size() > n) {
                out += fmt::format(", ... ({} {} items)", a.items.size(),
                                   value_type_name(a.element_type));
            }
            return out + "]";
        }
        default:
            break;
    }
    if (const uint64_t* u = std::get_if<uint64_t>(&data)) return fmt::format("{}", *u);
    return fmt::format("{}", std::get<int64_t>(data));
}

}  // namespace rf::gguf
