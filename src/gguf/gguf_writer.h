// GGUF writer (version 3): metadata of every type, tensors, alignment and padding.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "quant/types.h"

namespace rf::gguf {

// Collects metadata and tensors in memory order, then writes them in one pass.
// Tensor bytes are copied in (or produced by a callback for large models, see add_tensor_lazy).
// The alignment is `general.alignment` when set (must be a u32 power of two), else the
// constructor's; a non-default constructor alignment is written out as `general.alignment`.
class GgufWriter {
  public:
    explicit GgufWriter(uint32_t alignment = 32);

    void set(std::string key, Value value);  // replaces an existing key, keeps first position
    void remove(std::string_view key);       // no-op when absent
    const Value* find(std::string_view key) const;
    const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }

    // ne[0] is the fastest-varying dimension; `bytes` must hold exactly the tensor's size.
    // Errors: empty / over-long / duplicate name, 0 or > 4 dims, a 0 dim, ne[0] not a
    // multiple of the type's block size, wrong byte count.
    Status add_tensor(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                      std::vector<uint8_t> bytes);
    // Lazily produced tensor data: `produce` fills exactly the tensor's byte size when writing,
    // so multi-GB models never sit in memory at once. With write_file(path, n_threads > 1),
    // producers of different tensors run concurrently: they must not share mutable state.
    using Producer = std::function<void(std::span<uint8_t> out)>;
    Status add_tensor_lazy(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                           Producer produce);

    size_t n_tensors() const { return tensors_.size(); }
    uint64_t tensor_data_bytes() const;  // sum of tensor sizes, without padding

    // Streams the file to `path` (through a temporary name, renamed on success). Up to
    // `n_threads` lazy producers run ahead of the writer, in a window of 2 * n_threads tensors.
    Status write_file(const std::string& path, int n_threads = 1) const;
    std::vector<uint8_t> write_to_memory() const;  // for tests and fuzz seeds

    struct PendingTensor {
        std::string name;
        quant::GgmlType type = quant::GgmlType::kF32;
        std::vector<uint64_t> ne;
        uint64_t n_bytes = 0;
        std::vector<uint8_t> bytes;  // eager data, or empty when `produce` is set
        Producer produce;
    };

  private:
    Status check_tensor(const std::string& name, quant::GgmlType type,
                        const std::vector<uint64_t>& ne, uint64_t& n_bytes) const;
    uint32_t effective_alignment() const;
    // Header, metadata, tensor infos and the padding up to the data section.
    std::vector<uint8_t> header_bytes() const;

    uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<PendingTensor> tensors_;
};

}  // namespace rf::gguf
