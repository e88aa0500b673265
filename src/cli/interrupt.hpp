// SIGINT and SIGTERM during a run: the handlers only note the signal; the training loop looks
// at it after every batch and stops cleanly (see train.cpp). A second signal of the same kind
// ends the process at once (the default action).
#pragma once

#include <string>

namespace typegrad::cli {

/// Installs the handlers for SIGINT and SIGTERM (with SA_RESTART: reads and writes in progress
/// complete).
void install_interrupt_handlers();

/// The signal received (SIGINT or SIGTERM), or 0.
[[nodiscard]] int pending_signal() noexcept;

/// "SIGINT", "SIGTERM".
[[nodiscard]] const char* signal_name(int signal) noexcept;

/// Thrown by the training loop's callbacks when a signal is pending.
struct Interrupted {
    int signal;
    std::string during = "before training started";  // "while compiling 784-50-10 (…)"
};

}  // namespace typegrad::cli
