// libFuzzer target for the GGUF reader: any byte string must parse or be rejected with a
// message, never crash, hang or allocate without bound. Accepted files are walked fully.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gguf/gguf_file.h"

namespace {

// Touches everything a caller may read from an accepted file.
uint64_t walk(const rf::gguf::GgufFile& file) {
    uint64_t sum = file.alignment() + file.data_offset();
    for (const auto& [key, value] : file.metadata()) {
        sum += key.size() + value.to_display_string(4).size();
        if (value.is_integer() || value.is_float()) {
            sum += static_cast<uint64_t>(value.as_f64() != 0.0);
        }
    }
    for (const rf::gguf::TensorInfo& t : file.tensors()) {
        sum += t.n_elements() + t.shape_string().size();
        if (!t.data.empty()) sum += t.data.front() + t.data.back();
        if (file.find_tensor(t.name) != &t) __builtin_trap();
    }
    (void)file.get_uint("general.alignment");
    (void)file.get_string("general.architecture");
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto file = rf::gguf::GgufFile::parse(std::span<const uint8_t>(data, size));
    if (file.is_ok()) {
        volatile uint64_t sink = walk(file.value());
        (void)sink;
    } else if (file.message().empty()) {
        __builtin_trap();
    }
    return 0;
}
