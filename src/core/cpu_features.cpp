// CPUID / XGETBV probing on x86-64; on AArch64 NEON is architectural and dot-product support is
// taken from the compile target.
#include "core/cpu_features.h"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace rf {
namespace {

#if defined(__x86_64__) || defined(__i386__)

struct CpuidRegs {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
    CpuidRegs r;
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
}

// XCR0: which register files the OS saves on a context switch. Read with inline asm so this file
// needs no -mxsave.
uint64_t read_xcr0() {
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(uint32_t word, int index) {
    return ((word >> index) & 1u) != 0;
}

CpuFeatures detect() {
    CpuFeatures f;
    const uint32_t max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 1) return f;
    const CpuidRegs l1 = cpuid(1, 0);
    const bool osxsave = bit(l1.ecx, 27);
    const bool avx = bit(l1.ecx, 28);
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;              // SSE + AVX state
    const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask + upper ZMM state
    if (!os_ymm) return f;
    f.fma = bit(l1.ecx, 12);
    f.f16c = bit(l1.ecx, 29);
    if (max_leaf < 7) return f;
    const CpuidRegs l7 = cpuid(7, 0);
    f.avx2 = bit(l7.ebx, 5);
    if (os_zmm) {
        f.avx512f = bit(l7.ebx, 16);
        f.avx512dq = bit(l7.ebx, 17);
        f.avx512bw = bit(l7.ebx, 30);
        f.avx512vl = bit(l7.ebx, 31);
        f.avx512vnni = bit(l7.ecx, 11);
    }
    if (l7.eax >= 1) {
        const CpuidRegs l7s1 = cpuid(7, 1);
        f.avx_vnni = bit(l7s1.eax, 4);
        if (os_zmm) f.avx512bf16 = bit(l7s1.eax, 5);
    }
    return f;
}

#else

CpuFeatures detect() {
    CpuFeatures f;
#if defined(__aarch64__)
    f.neon = true;
#if defined(__ARM_FEATURE_DOTPROD)
    f.arm_dotprod = true;
#endif
#endif
    return f;
}

#endif

}  // namespace

std::string CpuFeatures::to_string() const {
    std::string out;
    const auto add = [&out](bool on, const char* name) {
        if (!on) return;
        if (!out.empty()) out += ' ';
        out += name;
    };
    add(avx2, "avx2");
    add(fma, "fma");
    add(f16c, "f16c");
    add(avx512f, "avx512f");
    add(avx512bw, "avx512bw");
    add(avx512vl, "avx512vl");
    add(avx512dq, "avx512dq");
    add(avx512vnni, "avx512vnni");
    add(avx512bf16, "avx512bf16");
    add(avx_vnni, "avxvnni");
    add(neon, "neon");
    add(arm_dotprod, "dotprod");
    return out.empty() ? std::string("none") : out;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

}  // namespace rf
