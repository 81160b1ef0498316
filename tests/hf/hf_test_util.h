// Test helpers for the Hugging Face import: writing safetensors images and model folders.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace rf::hf::testing {

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> shape;
    std::vector<float> values;  // row-major; stored as `dtype`
    std::string dtype = "F32";  // "F32", "F16", "BF16" or "I32"
};

// A safetensors image (8-byte length, JSON header, data) holding `tensors` in order.
std::vector<uint8_t> safetensors_bytes(const std::vector<TensorSpec>& tensors);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
void write_text(const std::filesystem::path& path, const std::string& text);

// Deterministic pseudo-random values in [-1, 1).
std::vector<float> random_values(size_t n, uint32_t seed);

// A fresh empty folder under the system temp dir, removed by the destructor.
class TempDir {
public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace rf::hf::testing
