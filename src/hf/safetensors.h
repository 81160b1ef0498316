// Safetensors reader: 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then raw little-endian data. Untrusted input: every offset,
// size and overlap is validated; tensor data stays in the memory map.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"

namespace rf::hf {

enum class StDtype { kBool, kU8, kI8, kI16, kU16, kI32, kU32, kI64, kU64, kF16, kBF16, kF32, kF64,
                     kF8E4M3, kF8E5M2 };

// Bytes per element; the dtype name as the format spells it ("F32", "BF16" ...).
size_t dtype_size(StDtype dtype);
std::string_view dtype_name(StDtype dtype);
// F16, BF16, F32, F64: the types read_floats() converts.
bool is_float_dtype(StDtype dtype);

// One tensor: row-major, shape.back() varies fastest. An empty shape is a scalar.
struct StTensor {
    std::string name;
    StDtype dtype = StDtype::kF32;
    std::vector<uint64_t> shape;
    std::span<const uint8_t> data;

    uint64_t n_elements() const;
    uint64_t row_length() const { return shape.empty() ? 1 : shape.back(); }
    uint64_t n_rows() const { return row_length() == 0 ? 0 : n_elements() / row_length(); }
    std::string shape_string() const;  // "[64, 256]"
};

// Converts elements [first, first + count) of a float tensor to float32 (the caller guarantees a
// float dtype and the range, both checked when the conversion was planned).
void read_floats(const StTensor& tensor, uint64_t first, uint64_t count, float* out);

class SafetensorsFile {
public:
    static Result<SafetensorsFile> open(const std::string& path);
    // Validates an in-memory image; `bytes` must outlive the result. `label` names it in errors.
    static Result<SafetensorsFile> parse(std::span<const uint8_t> bytes, std::string label);

    const std::vector<StTensor>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::string& label() const { return label_; }

private:
    std::shared_ptr<MappedFile> file_;  // null when parsing caller-owned bytes
    std::string label_;
    std::vector<StTensor> tensors_;
    std::map<std::string, std::string> metadata_;  // the optional "__metadata__" strings
};

// Every tensor of a Hugging Face model folder: model.safetensors, or the shards listed by
// model.safetensors.index.json, or (without an index) every model-*.safetensors file.
class SafetensorsModel {
public:
    static Result<SafetensorsModel> open_dir(const std::string& dir);
    // Builds a model from already opened files (tests); names must be unique across files.
    static Result<SafetensorsModel> from_files(std::vector<SafetensorsFile> files);

    const StTensor* find(std::string_view name) const;
    // All tensors, sorted by name.
    std::vector<const StTensor*> all() const;
    size_t size() const { return index_.size(); }

private:
    Status build_index();

    std::vector<std::unique_ptr<SafetensorsFile>> files_;  // stable addresses for the index
    std::unordered_map<std::string, const StTensor*> index_;
};

}  // namespace rf::hf
