// Logging and the always-on check failure handler.
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/check.h"

namespace rf::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_write_mutex;
constexpr const char* kLevelTags[] = {"debug", "info", "warn", "error", ""};
}  // namespace

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view message) {
    std::lock_guard lock(g_write_mutex);
    std::fprintf(stderr, "[%s] %.*s\n", kLevelTags[static_cast<int>(l)], static_cast<int>(message.size()),
                 message.data());
}

}  // namespace rf::log

namespace rf::detail {
void check_failed(const char* file, int line, const char* condition, const char* message) {
    std::fprintf(stderr, "rocmforge: internal check failed at %s:%d: %s%s%s\n", file, line, condition,
                 message ? " — " : "", message ? message : "");
    std::fflush(stderr);
    std::abort();
}
}  // namespace rf::detail
