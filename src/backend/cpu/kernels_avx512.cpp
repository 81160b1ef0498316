// The avx512 kernel table: the x86 kernels of vec_dot_x86*.h compiled for AVX-512 F/BW/VL/DQ + VNNI
// (256-bit vectors, EVEX encoding, 32 registers). Built with its own -m flags
// (src/backend/cpu/CMakeLists.txt); used only when CPUID reports them.
#define RF_X86_NS avx512
#include "backend/cpu/vec_dot_x86_table.h"

namespace rf::cpu {

const KernelTable& avx512_kernel_table() {
    static const KernelTable table = avx512::make_table(Isa::kAvx512);
    return table;
}

}  // namespace rf::cpu
