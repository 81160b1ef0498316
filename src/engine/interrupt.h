// Ctrl-C handling for interactive commands: the first SIGINT raises a flag that generation
// loops poll (stopping cleanly); a second one restores the default action.
#pragma once

#include <atomic>

namespace rf::engine {

// Installs the SIGINT handler (idempotent).
void install_interrupt_handler();
// The flag the handler raises; pass it as GenerateParams::cancel.
std::atomic<bool>& interrupt_flag();
// Lowers the flag again (e.g. chat: Ctrl-C ends one answer, not the session).
void clear_interrupt();

}  // namespace rf::engine
