// The malformed GGUF corpus shared by the reader tests and the fixture generator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rf::gguf::testing {

struct MalformedCase {
    std::string name;               // file stem under tests/fixtures/gguf/malformed/
    std::vector<uint8_t> bytes;     // the file's contents
    std::string expected_fragment;  // must appear in the reader's error message
};

std::vector<MalformedCase> malformed_cases();

}  // namespace rf::gguf::testing
