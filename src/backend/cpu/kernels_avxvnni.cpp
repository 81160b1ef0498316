// The avxvnni kernel table: the x86 kernels of vec_dot_x86*.h compiled for AVX2 + FMA + F16C with
// the VEX-encoded VNNI dot product (AVX-VNNI). Built with its own -m flags
// (src/backend/cpu/CMakeLists.txt); used only when CPUID reports them.
#define RF_X86_NS avxvnni
#include "backend/cpu/vec_dot_x86_table.h"

namespace rf::cpu {

const KernelTable& avxvnni_kernel_table() {
    static const KernelTable table = avxvnni::make_table(Isa::kAvxVnni);
    return table;
}

}  // namespace rf::cpu
