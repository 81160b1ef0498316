// GGUF reader: strict validation of untrusted files, mmap-backed zero-copy tensor views.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "gguf/value.h"
#include "quant/types.h"

namespace rf::gguf {

inline constexpr uint32_t kMaxDims = 4;
inline constexpr uint32_t kDefaultAlignment = 32;

// One tensor's header entry plus a view of its bytes inside the mapped file.
struct TensorInfo {
    std::string name;
    quant::GgmlType type = quant::GgmlType::kF32;
    uint32_t n_dims = 0;
    std::array<uint64_t, kMaxDims> ne = {1, 1, 1, 1};  // ne[0] is the fastest-varying dimension
    uint64_t offset = 0;                               // relative to the start of the data section
    uint64_t n_bytes = 0;
    std::span<const uint8_t> data;  // zero-copy view into the mapping

    uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    uint64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }  // rows of ne[0] elements
    std::string shape_string() const;                          // "[4096, 32000]"
};

// Keeps the mapping alive for as long as any tensor view is used.
class GgufFile {
  public:
    // Opens and fully validates a file; any defect gives one message naming field and offset.
    static Result<GgufFile> open(const std::string& path);
    // Validates an in-memory image (used by the fuzzer and tests); `bytes` must outlive the result.
    static Result<GgufFile> parse(std::span<const uint8_t> bytes);

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
    uint64_t file_size() const { return bytes_.size(); }

    // Metadata, in file order.
    const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;

    // Typed getters: an error names the key when it is missing or of the wrong type.
    Result<std::string> get_string(std::string_view key) const;
    Result<uint64_t> get_uint(std::string_view key) const;  // any non-negative integer type
    Result<int64_t> get_int(std::string_view key) const;    // any integer type
    Result<double> get_float(std::string_view key) const;   // float or integer
    Result<bool> get_bool(std::string_view key) const;
    Result<const Array*> get_array(std::string_view key) const;
    // Optional variants: nullopt when absent; an error only when present with the wrong type.
    Result<std::optional<std::string>> get_string_opt(std::string_view key) const;
    Result<std::optional<uint64_t>> get_uint_opt(std::string_view key) const;
    Result<std::optional<double>> get_float_opt(std::string_view key) const;
    Result<std::optional<bool>> get_bool_opt(std::string_view key) const;

    // `general.architecture`, or "" when absent.
    std::string architecture() const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

  private:
    std::shared_ptr<MappedFile> file_;  // null when parsing caller-owned bytes
    std::span<const uint8_t> bytes_;
    uint32_t version_ = 0;
    uint32_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::unordered_map<std::string, size_t> metadata_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;

    friend class GgufParser;
};

}  // namespace rf::gguf
