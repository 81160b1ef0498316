// Runs the rocmforge binary from a test and captures what it printed (header-only; tests that
// use it define RF_ROCMFORGE_BIN and add the tests/ folder to their include path).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace rf::testing {

struct CliRun {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// The whole file as bytes ("" when it cannot be opened).
inline std::string slurp(const std::string& path) {
    std::string out;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return out;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
    std::fclose(f);
    return out;
}

// Runs `rocmforge ARGS` (ARGS already shell-quoted) through the shell. The capture files carry
// the process id: ctest runs tests in parallel.
inline CliRun run_rocmforge(const std::string& args) {
    const std::string stem = fmt::format("{}/rf_cli_{}", ::testing::TempDir(), ::getpid());
    const std::string out = stem + "_stdout.txt";
    const std::string err = stem + "_stderr.txt";
    const std::string cmd = fmt::format("'{}' {} >'{}' 2>'{}'", RF_ROCMFORGE_BIN, args, out, err);
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

}  // namespace rf::testing
