#include "k8s/base/signals.h"

#include <csignal>
#include <pthread.h>

namespace k8s {
namespace {
sigset_t termination_set(bool hangup = false) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  if (hangup) sigaddset(&s, SIGHUP);
  return s;
}
}  // namespace

void block_termination_signals() {
  sigset_t s = termination_set(true);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_termination() {
  sigset_t s = termination_set();
  int sig = 0;
  sigwait(&s, &sig);
  return sig;
}

}  // namespace k8s

namespace k8s {
int wait_for_termination_or_hangup() {
  sigset_t s = termination_set(true);
  int sig = 0;
  sigwait(&s, &sig);
  return sig;
}
}  // namespace k8s
