// Run-time detection of the CPU's vector extensions (CPUID + OS register-state support on x86,
// compile-time facts on ARM), so kernels can be chosen per machine from one binary.
#pragma once

#include <string>

namespace rf {

struct CpuFeatures {
    // x86-64. Each flag is set only when the OS also saves the register state it needs.
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool avx_vnni = false;  // the 256-bit VEX encoding of VNNI (Alder Lake and later)
    // AArch64.
    bool neon = false;
    bool arm_dotprod = false;

    // "avx2 fma f16c avx512f ..." — the flags that are set, for logs.
    std::string to_string() const;
};

// Detected once, on first use; thread-safe.
const CpuFeatures& cpu_features();

}  // namespace rf
