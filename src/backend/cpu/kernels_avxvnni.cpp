// The avxvnni kernel table.
#include "backend/cpu/vec_dot.h"

namespace rf::cpu {

const KernelTable& avxvnni_kernel_table() {
    static const KernelTable table = [] {
        KernelTable t = generic_kernel_table();
        t.isa = Isa::kAvxVnni;
        return t;
    }();
    return table;
}

}  // namespace rf::cpu
