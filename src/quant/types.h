// Every tensor element type a GGUF file can carry, with its GGUF id and block geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace rf::quant {

// Values equal the GGUF / ggml type ids. Gaps are ids that ggml retired (never valid in a file).
enum class GgmlType : uint32_t {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ2_K = 10,
    kQ3_K = 11,
    kQ4_K = 12,
    kQ5_K = 13,
    kQ6_K = 14,
    kQ8_K = 15,
    kIQ2_XXS = 16,
    kIQ2_XS = 17,
    kIQ3_XXS = 18,
    kIQ1_S = 19,
    kIQ4_NL = 20,
    kIQ3_S = 21,
    kIQ2_S = 22,
    kIQ4_XS = 23,
    kI8 = 24,
    kI16 = 25,
    kI32 = 26,
    kI64 = 27,
    kF64 = 28,
    kIQ1_M = 29,
    kBF16 = 30,
    kTQ1_0 = 34,
    kTQ2_0 = 35,
    kMXFP4 = 39,
};

// Static facts about one type: `block_size` elements are stored in `type_size` bytes.
struct TypeTraits {
    GgmlType type;
    std::string_view name;  // as llama.cpp prints it: "q4_K", "f16", "iq4_xs" ...
    uint32_t block_size;    // elements per block (1 for plain types)
    uint32_t type_size;     // bytes per block
    bool is_quantized;
};

// Traits of a valid type id, or nullptr for unknown / retired ids (untrusted input).
const TypeTraits* type_traits(uint32_t type_id);
// Traits of a known type (always valid).
const TypeTraits& traits(GgmlType type);
// Parses a type name case-insensitively ("Q4_K", "q8_0", "bf16").
std::optional<GgmlType> parse_type_name(std::string_view name);
// Every valid type, in id order.
std::span<const TypeTraits> all_types();

// Bytes of one row of `n_elements` (must be a multiple of the block size).
inline size_t row_bytes(GgmlType type, size_t n_elements) {
    const TypeTraits& t = traits(type);
    return n_elements / t.block_size * t.type_size;
}

}  // namespace rf::quant
