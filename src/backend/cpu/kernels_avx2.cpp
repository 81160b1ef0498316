// The avx2 kernel table: the x86 kernels of vec_dot_x86*.h compiled for AVX2 + FMA + F16C.
// Built with its own -m flags (src/backend/cpu/CMakeLists.txt); used only when CPUID reports them.
#define RF_X86_NS avx2
#include "backend/cpu/vec_dot_x86_table.h"

namespace rf::cpu {

const KernelTable& avx2_kernel_table() {
    static const KernelTable table = avx2::make_table(Isa::kAvx2);
    return table;
}

}  // namespace rf::cpu
