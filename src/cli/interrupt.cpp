#include "interrupt.hpp"

#include <signal.h>

#include <csignal>
#include <initializer_list>

namespace typegrad::cli {
namespace {

volatile std::sig_atomic_t received = 0;

extern "C" void on_signal(int sig) {
    if (received != 0) {
        // Asked twice: stop now (temporary files that remain are removed by the next run).
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        return;
    }
    received = sig;
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (const int sig : {SIGINT, SIGTERM}) {
        // A signal ignored when we started (nohup, `cmd &` in a script) stays ignored, as the
        // shell intended.
        struct sigaction old {};
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        ::sigaction(sig, &sa, nullptr);
    }
}

int pending_signal() noexcept { return received; }

const char* signal_name(int signal) noexcept {
    switch (signal) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        default: return "a signal";
    }
}

}  // namespace typegrad::cli
