// Helpers for the chat-template tests: reading fixture files and explaining output mismatches.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace rf::chat::testing {

inline std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return std::nullopt;
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline nlohmann::ordered_json read_json(const std::filesystem::path& path) {
    const auto text = read_file(path);
    if (!text) return nlohmann::ordered_json();
    return nlohmann::ordered_json::parse(*text);
}

// Printable excerpt of both strings around their first difference.
inline std::string describe_mismatch(const std::string& expected, const std::string& actual) {
    size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
    const size_t from = i > 40 ? i - 40 : 0;
    auto excerpt = [&](const std::string& s) {
        return nlohmann::json(s.substr(std::min(from, s.size()), 120)).dump(-1, ' ', false,
                                                                             nlohmann::json::error_handler_t::replace);
    };
    std::ostringstream out;
    out << "first difference at byte " << i << " (expected " << expected.size() << " bytes, got " << actual.size()
        << ")\n  expected: " << excerpt(expected) << "\n  actual:   " << excerpt(actual);
    return out.str();
}

// gtest parameter names allow only [A-Za-z0-9_].
inline std::string test_name(std::string s) {
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

}  // namespace rf::chat::testing
