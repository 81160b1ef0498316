// Reads the shared tokenizer test vectors: <vocab>.gguf.inp (cases separated by
// "\n__ggml_vocab_test__\n") and <vocab>.gguf.out (one line of ids per case).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rf::tok::testing {

struct VectorCase {
    std::string text;
    std::vector<int32_t> ids;
};

struct VectorFile {
    std::filesystem::path gguf;
    std::vector<VectorCase> cases;
    std::string error;  // non-empty when the pair of files could not be read
};

// Every vocabulary under `dir` that has both an .inp and an .out file, sorted by name.
std::vector<VectorFile> load_vector_files(const std::filesystem::path& dir);

// The shared vocab folder, or "" when it is absent.
std::filesystem::path shared_vocab_dir();

}  // namespace rf::tok::testing
