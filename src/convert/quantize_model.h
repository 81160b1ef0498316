// Re-quantizing a GGUF model to a llama.cpp-style preset (`rocmforge quantize`).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"
#include "gguf/file_type.h"
#include "gguf/gguf_writer.h"

namespace rf::convert {

struct QuantizeOptions {
    gguf::FileType ftype = gguf::FileType::kMostlyQ4_K_M;
    bool pure = false;  // every quantizable tensor gets the preset's default type, no mixing
    int n_threads = 0;  // tensors converted concurrently; <= 0: all hardware threads
    bool fast = false;  // round-to-nearest instead of the searching quantizers (Encoding::kFast)
};

// What a conversion produced: sizes, parameter count and how many tensors got each type.
struct ConvertReport {
    uint64_t n_params = 0;
    uint64_t in_bytes = 0;   // tensor data bytes of the input
    uint64_t out_bytes = 0;  // tensor data bytes of the output
    size_t n_fallbacks = 0;  // tensors whose shape forced another type than the rule's
    std::map<std::string, size_t> type_counts;  // "q4_K" -> number of tensors
    double seconds = 0;
    double bits_per_weight() const {
        return n_params == 0 ? 0.0
                             : 8.0 * static_cast<double>(out_bytes) / static_cast<double>(n_params);
    }
};

// Reads `in_path`, converts every tensor per the preset and streams the result to `out_path`.
// Metadata is copied (split keys dropped); general.file_type and quantization_version are set.
Result<ConvertReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                     const QuantizeOptions& options);

// Hardware threads when n <= 0, else n.
int resolve_threads(int n);

}  // namespace rf::convert
