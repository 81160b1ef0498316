// GGUF metadata values: scalars, strings and (nested) arrays, as read from or written to a file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rf::gguf {

// Values equal the GGUF on-disk value type ids.
enum class ValueType : uint32_t {
    kUint8 = 0,
    kInt8 = 1,
    kUint16 = 2,
    kInt16 = 3,
    kUint32 = 4,
    kInt32 = 5,
    kFloat32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kUint64 = 10,
    kInt64 = 11,
    kFloat64 = 12,
};

std::string_view value_type_name(ValueType type);

struct Value;

// A homogeneous array; `element_type` may itself be kArray (nested arrays).
struct Array {
    ValueType element_type = ValueType::kUint8;
    std::vector<Value> items;
};

// One metadata value. Integers keep their declared width in `type`; the payload is widened.
struct Value {
    ValueType type = ValueType::kUint8;
    std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

    static Value u8(uint8_t v) { return {ValueType::kUint8, uint64_t{v}}; }
    static Value i8(int8_t v) { return {ValueType::kInt8, int64_t{v}}; }
    static Value u16(uint16_t v) { return {ValueType::kUint16, uint64_t{v}}; }
    static Value i16(int16_t v) { return {ValueType::kInt16, int64_t{v}}; }
    static Value u32(uint32_t v) { return {ValueType::kUint32, uint64_t{v}}; }
    static Value i32(int32_t v) { return {ValueType::kInt32, int64_t{v}}; }
    static Value u64(uint64_t v) { return {ValueType::kUint64, v}; }
    static Value i64(int64_t v) { return {ValueType::kInt64, v}; }
    static Value f32(float v) { return {ValueType::kFloat32, static_cast<double>(v)}; }
    static Value f64(double v) { return {ValueType::kFloat64, v}; }
    static Value boolean(bool v) { return {ValueType::kBool, v}; }
    static Value string(std::string v) { return {ValueType::kString, std::move(v)}; }
    static Value array(ValueType element_type, std::vector<Value> items) {
        return {ValueType::kArray, Array{element_type, std::move(items)}};
    }
    static Value string_array(const std::vector<std::string>& strings);
    static Value f32_array(const std::vector<float>& values);
    static Value i32_array(const std::vector<int32_t>& values);

    bool is_integer() const;  // any of the 8 integer widths
    bool is_float() const { return type == ValueType::kFloat32 || type == ValueType::kFloat64; }
    bool is_string() const { return type == ValueType::kString; }
    bool is_array() const { return type == ValueType::kArray; }

    // Accessors: the caller checks the type first (they abort on a mismatch).
    uint64_t as_u64() const;  // unsigned or non-negative signed integer
    int64_t as_i64() const;   // any integer that fits
    double as_f64() const;    // any float or integer
    bool as_bool() const { return std::get<bool>(data); }
    const std::string& as_string() const { return std::get<std::string>(data); }
    const Array& as_array() const { return std::get<Array>(data); }

    // Human-readable rendering for `inspect` (arrays abbreviated after `max_items`).
    std::string to_display_string(size_t max_items = 8) const;
};

// Deep equality: same declared type (integer width included) and payload.
bool operator==(const Array& a, const Array& b);
bool operator==(const Value& a, const Value& b);

}  // namespace rf::gguf
