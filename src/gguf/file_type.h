// `general.file_type`: llama.cpp's "ftype" ids (the dominant tensor type / quantization mix).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rf::gguf {

// Values equal llama.cpp's llama_ftype ids. Gaps (4-6, 33-35) are ids that llama.cpp retired.
enum class FileType : uint32_t {
    kAllF32 = 0,
    kMostlyF16 = 1,
    kMostlyQ4_0 = 2,
    kMostlyQ4_1 = 3,
    kMostlyQ8_0 = 7,
    kMostlyQ5_0 = 8,
    kMostlyQ5_1 = 9,
    kMostlyQ2_K = 10,
    kMostlyQ3_K_S = 11,
    kMostlyQ3_K_M = 12,
    kMostlyQ3_K_L = 13,
    kMostlyQ4_K_S = 14,
    kMostlyQ4_K_M = 15,
    kMostlyQ5_K_S = 16,
    kMostlyQ5_K_M = 17,
    kMostlyQ6_K = 18,
    kMostlyIQ2_XXS = 19,
    kMostlyIQ2_XS = 20,
    kMostlyQ2_K_S = 21,
    kMostlyIQ3_XS = 22,
    kMostlyIQ3_XXS = 23,
    kMostlyIQ1_S = 24,
    kMostlyIQ4_NL = 25,
    kMostlyIQ3_S = 26,
    kMostlyIQ3_M = 27,
    kMostlyIQ2_S = 28,
    kMostlyIQ2_M = 29,
    kMostlyIQ4_XS = 30,
    kMostlyIQ1_M = 31,
    kMostlyBF16 = 32,
    kMostlyTQ1_0 = 36,
    kMostlyTQ2_0 = 37,
    kMostlyMXFP4_MOE = 38,
    kGuessed = 1024,
};

// llama.cpp's name without the LLAMA_FTYPE_ prefix ("MOSTLY_Q4_K_M", "ALL_F32"), including the
// retired ids; "" for an id llama.cpp never defined.
std::string_view file_type_name(uint32_t id);
inline std::string_view file_type_name(FileType type) {
    return file_type_name(static_cast<uint32_t>(type));
}

// Parses a user-facing name case-insensitively: "Q4_K_M", "MOSTLY_Q4_K_M", "F16", "ALL_F32",
// "Q3_K" (alias of Q3_K_M as in llama-quantize). Retired ids are not accepted.
std::optional<FileType> parse_file_type(std::string_view name);

}  // namespace rf::gguf
