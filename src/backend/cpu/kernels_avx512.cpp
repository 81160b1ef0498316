// The avx512 kernel table.
#include "backend/cpu/vec_dot.h"

namespace rf::cpu {

const KernelTable& avx512_kernel_table() {
    static const KernelTable table = [] {
        KernelTable t = generic_kernel_table();
        t.isa = Isa::kAvx512;
        return t;
    }();
    return table;
}

}  // namespace rf::cpu
