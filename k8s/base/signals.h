// SIGTERM/SIGINT handling for our servers: block the signals before any thread starts (so no
// worker thread is interrupted), then wait for one in the main thread.
#pragma once

namespace k8s {

// Call first thing in main(); also ignores SIGPIPE (a vanished peer is an I/O error, not death).
void block_termination_signals();
// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int wait_for_termination();
// The same, or SIGHUP (blocked too by block_termination_signals): for servers that reload.
int wait_for_termination_or_hangup();

}  // namespace k8s
