// Test helpers for the Hugging Face import (see hf_test_util.h).
#include "hf_test_util.h"

#include <atomic>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/half.h"

namespace rf::hf::testing {

std::vector<uint8_t> safetensors_bytes(const std::vector<TensorSpec>& tensors) {
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}};
    std::vector<uint8_t> data;
    for (const TensorSpec& t : tensors) {
        const size_t begin = data.size();
        for (float v : t.values) {
            if (t.dtype == "F32") {
                uint8_t b[4];
                std::memcpy(b, &v, 4);
                data.insert(data.end(), b, b + 4);
            } else if (t.dtype == "I32") {
                const auto i = static_cast<int32_t>(v);
                uint8_t b[4];
                std::memcpy(b, &i, 4);
                data.insert(data.end(), b, b + 4);
            } else {
                const uint16_t h = t.dtype == "F16" ? float_to_fp16(v) : float_to_bf16(v);
                data.push_back(static_cast<uint8_t>(h & 0xff));
                data.push_back(static_cast<uint8_t>(h >> 8));
            }
        }
        header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string image;
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) image.push_back(static_cast<char>(n >> (8 * i)));
    image += text;
    image.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {image.begin(), image.end()};
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
}

std::vector<float> random_values(size_t n, uint32_t seed) {
    std::vector<float> out(n);
    uint32_t state = seed * 2654435761u + 1u;
    for (float& v : out) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
    }
    return out;
}

TempDir::TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("rf_hf_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace rf::hf::testing
