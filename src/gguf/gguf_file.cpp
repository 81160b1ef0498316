// GgufFile: opening (mmap + parse) and typed metadata access with precise error messages.
#include "gguf/gguf_file.h"

#include <fmt/format.h>

#include <limits>

namespace rf::gguf {

std::string TensorInfo::shape_string() const {
    std::string out = "[";
    for (uint32_t i = 0; i < n_dims; ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("{}", ne[i]);
    }
    return out + "]";
}

Result<GgufFile> GgufFile::open(const std::string& path) {
    RF_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::open(path));
    Result<GgufFile> parsed = parse(mapped->bytes());
    if (!parsed) return Status::error(fmt::format("{}: {}", path, parsed.message()));
    GgufFile file = std::move(parsed).value();
    file.file_ = std::move(mapped);
    return file;
}

const Value* GgufFile::find(std::string_view key) const {
    const auto it = metadata_index_.find(std::string(key));
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    const auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::string GgufFile::architecture() const {
    const Value* v = find("general.architecture");
    return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

namespace {

Status missing(std::string_view key) {
    return error("metadata key '{}' is missing", key);
}

Status wrong_type(std::string_view key, const Value& v, std::string_view wanted) {
    return error("metadata key '{}' has type {}, expected {}", key, value_type_name(v.type),
                 wanted);
}

// Checks a present value against a getter's contract; returns an error Status when it fails.
Status check_string(std::string_view key, const Value& v) {
    return v.is_string() ? Status::ok() : wrong_type(key, v, "a string");
}

Status check_uint(std::string_view key, const Value& v) {
    if (!v.is_integer()) return wrong_type(key, v, "an unsigned integer");
    if (const int64_t* i = std::get_if<int64_t>(&v.data); i != nullptr && *i < 0) {
        return error("metadata key '{}' is {}, expected a non-negative integer", key, *i);
    }
    return Status::ok();
}

Status check_float(std::string_view key, const Value& v) {
    return v.is_float() || v.is_integer() ? Status::ok() : wrong_type(key, v, "a number");
}

Status check_bool(std::string_view key, const Value& v) {
    return v.type == ValueType::kBool ? Status::ok() : wrong_type(key, v, "a bool");
}

}  // namespace

Result<std::string> GgufFile::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    RF_RETURN_IF_ERROR(check_string(key, *v));
    return v->as_string();
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    RF_RETURN_IF_ERROR(check_uint(key, *v));
    return v->as_u64();
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    if (!v->is_integer()) return wrong_type(key, *v, "an integer");
    if (const uint64_t* u = std::get_if<uint64_t>(&v->data);
        u != nullptr && *u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return error("metadata key '{}' is {}, too large for a signed 64-bit integer", key, *u);
    }
    return v->as_i64();
}

Result<double> GgufFile::get_float(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    RF_RETURN_IF_ERROR(check_float(key, *v));
    return v->as_f64();
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    RF_RETURN_IF_ERROR(check_bool(key, *v));
    return v->as_bool();
}

Result<const Array*> GgufFile::get_array(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return missing(key);
    if (!v->is_array()) return wrong_type(key, *v, "an array");
    return &v->as_array();
}

Result<std::optional<std::string>> GgufFile::get_string_opt(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::optional<std::string>();
    RF_RETURN_IF_ERROR(check_string(key, *v));
    return std::optional<std::string>(v->as_string());
}

Result<std::optional<uint64_t>> GgufFile::get_uint_opt(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::optional<uint64_t>();
    RF_RETURN_IF_ERROR(check_uint(key, *v));
    return std::optional<uint64_t>(v->as_u64());
}

Result<std::optional<double>> GgufFile::get_float_opt(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::optional<double>();
    RF_RETURN_IF_ERROR(check_float(key, *v));
    return std::optional<double>(v->as_f64());
}

Result<std::optional<bool>> GgufFile::get_bool_opt(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::optional<bool>();
    RF_RETURN_IF_ERROR(check_bool(key, *v));
    return std::optional<bool>(v->as_bool());
}

}  // namespace rf::gguf
