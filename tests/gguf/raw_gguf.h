// Test helper: builds GGUF byte images field by field, so tests can write malformed files that
// the real writer refuses to produce.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace rf::gguf::testing {

class RawGguf {
  public:
    template <typename T>
    RawGguf& put(T v) {
        const size_t at = bytes_.size();
        bytes_.resize(at + sizeof v);
        std::memcpy(bytes_.data() + at, &v, sizeof v);
        return *this;
    }
    RawGguf& u8(uint8_t v) { return put(v); }
    RawGguf& u32(uint32_t v) { return put(v); }
    RawGguf& u64(uint64_t v) { return put(v); }
    RawGguf& f32(float v) { return put(v); }
    RawGguf& raw(std::string_view s) {
        const size_t at = bytes_.size();
        bytes_.resize(at + s.size());
        if (!s.empty()) std::memcpy(bytes_.data() + at, s.data(), s.size());
        return *this;
    }
    RawGguf& str(std::string_view s) { return u64(s.size()).raw(s); }
    RawGguf& zeros(size_t n) {
        bytes_.resize(bytes_.size() + n, 0);
        return *this;
    }
    RawGguf& pad_to(size_t align) {
        bytes_.resize((bytes_.size() + align - 1) / align * align, 0);
        return *this;
    }

    // "GGUF", version, tensor count, key-value count.
    RawGguf& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
        return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
    }
    // A key-value pair of type u32 (type id 4) / string (type id 8).
    RawGguf& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
    RawGguf& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
    // One tensor info: name, n_dims, ne[], type id, data offset.
    RawGguf& tensor(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type,
                    uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (uint64_t d : ne) u64(d);
        return u32(type).u64(offset);
    }

    size_t size() const { return bytes_.size(); }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

  private:
    std::vector<uint8_t> bytes_;
};

}  // namespace rf::gguf::testing
