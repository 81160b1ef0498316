// Always-on invariant checks: for bugs inside the engine, never for untrusted input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace rf::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* condition, const char* message);
}  // namespace rf::detail

// RF_CHECK(cond) / RF_CHECK_MSG(cond, "why"): abort with file:line when an invariant is broken.
#define RF_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) [[unlikely]] ::rf::detail::check_failed(__FILE__, __LINE__, #cond, nullptr); \
    } while (0)
#define RF_CHECK_MSG(cond, msg)                                                     \
    do {                                                                            \
        if (!(cond)) [[unlikely]] ::rf::detail::check_failed(__FILE__, __LINE__, #cond, (msg)); \
    } while (0)
