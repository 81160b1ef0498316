// libFuzzer target: the safetensors header parser and the config.json parser of `convert`, both
// fed untrusted bytes. Every parsed float tensor is read in full, so bad offsets would surface.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hf/hf_config.h"
#include "hf/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);
    auto file = rf::hf::SafetensorsFile::parse(bytes, "fuzz");
    if (file.is_ok()) {
        std::vector<float> row;
        for (const rf::hf::StTensor& t : file->tensors()) {
            if (!rf::hf::is_float_dtype(t.dtype) || t.n_elements() > (1u << 20)) continue;
            row.resize(t.n_elements());
            rf::hf::read_floats(t, 0, t.n_elements(), row.data());
        }
    }
    auto config = rf::hf::parse_hf_config(std::string(reinterpret_cast<const char*>(data), size));
    if (config.is_ok() && config->rope_scaling == rf::hf::RopeScaling::kLlama3) {
        (void)rf::hf::llama3_rope_factors(*config);
    }
    return 0;
}
