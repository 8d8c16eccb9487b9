// The process heap as glibc's malloc sees it (mallinfo2), as Prometheus gauges read at scrape
// time, so the memory breakdown shows live data against allocator slack:
//   process_heap_bytes{kind="arena"}   obtained with sbrk/brk and per-thread arenas
//   process_heap_bytes{kind="mmap"}    large blocks mapped on their own
//   process_heap_bytes{kind="in_use"}  handed out and not freed (live data)
//   process_heap_bytes{kind="free"}    held by malloc, not in use (fragmentation, slack)
#pragma once

#include "k8s/base/metrics.h"

namespace k8s {

void register_heap_metrics(metrics::registry& r = metrics::default_registry());

}  // namespace k8s
