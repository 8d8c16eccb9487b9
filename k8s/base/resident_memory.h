// Memory the process holds without using it, given back to the kernel when it goes quiet:
//   - the malloc heap's free pages (malloc_trim);
//   - the pages of code and read-only data that were mapped once (dynamic linking, start-up,
//     TLS set-up, a burst of work) and are not in use now. Their mappings are dropped; the pages
//     stay in the page cache and come back with a minor fault on their next use.
// RSS counts both although neither holds anything the process needs: at start-up about half of
// multi-casskop's RSS is library code it ran once.
#pragma once

#include <chrono>
#include <cstddef>

namespace k8s {

struct released_memory {
  size_t code_bytes = 0;  // mapped code and read-only data dropped (RSS before minus after)
  size_t heap_bytes = 0;  // RSS given back by malloc_trim
};

// Drops the mapped pages of every loaded object's non-writable segments (not its RELRO part,
// which was relocated in memory, nor an object with text relocations) and trims the heap.
// Safe at any time: what is dropped is exactly the file's content and is read again on use.
released_memory release_unused_memory();

// Trims the malloc heap only (its free pages back to the kernel); returns the RSS given back.
size_t trim_heap();

// When to give memory back: everything (release_unused_memory) once the process has gone quiet
// after some work (a tick with less than `quiet` CPU after ticks that used at least `work` in
// all), so each burst of work is followed by one release and an idle process is not scanned
// again; the heap alone (trim_heap) every `busy_trim_ticks` ticks of a long burst, as its free
// pages are what RSS grows by while busy (code in use would only be mapped again).
class release_schedule {
 public:
  enum class action { none, trim_heap, release_all };
  struct settings {
    std::chrono::milliseconds quiet{30};
    std::chrono::milliseconds work{100};
    int busy_trim_ticks = 5;
  };
  release_schedule() = default;
  explicit release_schedule(settings s) : s_(s) {}
  // `cpu_so_far`: the process's CPU time, read about once a second.
  action on_tick(std::chrono::milliseconds cpu_so_far);

 private:
  settings s_;
  bool first_ = true;
  std::chrono::milliseconds last_{0};
  std::chrono::milliseconds work_since_release_{0};
  int busy_ticks_ = 0;
};

// The process's CPU time so far (user and system, every thread).
std::chrono::milliseconds process_cpu_time();

}  // namespace k8s
