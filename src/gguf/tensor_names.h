// GGUF tensor naming: per-layer tensors are "blk.N.<name>".
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace rf::gguf {

// Layer index N of a "blk.N.*" tensor name, or -1 for tensors outside the layers.
inline int32_t tensor_layer(std::string_view name) {
    constexpr std::string_view kLayerPrefix = "blk.";
    if (!name.starts_with(kLayerPrefix)) return -1;
    int32_t il = -1;
    const char* begin = name.data() + kLayerPrefix.size();
    const auto [end, ec] = std::from_chars(begin, name.data() + name.size(), il);
    return ec == std::errc() && end != begin ? il : -1;
}

}  // namespace rf::gguf
