// GGUF writer (version 3): metadata of every type, tensors, alignment and padding.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "quant/types.h"

namespace rf::gguf {

// Collects metadata and tensors in memory order, then writes them in one pass.
// Tensor bytes are copied in (or produced by a callback for large models, see add_tensor_lazy).
class GgufWriter {
public:
    explicit GgufWriter(uint32_t alignment = 32);

    void set(std::string key, Value value);  // replaces an existing key, keeps first position
    // ne[0] is the fastest-varying dimension; `bytes` must hold exactly the tensor's size.
    Status add_tensor(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                      std::vector<uint8_t> bytes);
    // Lazily produced tensor data: `produce` fills exactly the tensor's byte size when writing,
    // so multi-GB models never sit in memory at once.
    using Producer = std::function<void(std::span<uint8_t> out)>;
    Status add_tensor_lazy(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                           Producer produce);

    Status write_file(const std::string& path) const;
    std::vector<uint8_t> write_to_memory() const;  // for tests and fuzz seeds

private:
    struct PendingTensor;
    uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<PendingTensor> tensors_;
};

}  // namespace rf::gguf
