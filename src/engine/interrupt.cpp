// SIGINT -> a lock-free flag; a second SIGINT while the flag is up falls back to the default.
#include "engine/interrupt.h"

#include <csignal>

namespace rf::engine {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_sigint(int) {
    if (g_interrupted.exchange(true)) std::signal(SIGINT, SIG_DFL);
}

}  // namespace

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }
std::atomic<bool>& interrupt_flag() { return g_interrupted; }
void clear_interrupt() {
    g_interrupted.store(false);
    std::signal(SIGINT, on_sigint);
}

}  // namespace rf::engine
