#include "k8s/base/heap_metrics.h"

#include <malloc.h>

namespace k8s {

void register_heap_metrics(metrics::registry& r) {
  r.labeled_gauge_callback("process_heap_bytes", "The malloc heap (mallinfo2), by kind", [] {
    const struct mallinfo2 m = mallinfo2();
    return std::vector<metrics::labeled_value>{
        {{{"kind", "arena"}}, static_cast<double>(m.arena)},
        {{{"kind", "mmap"}}, static_cast<double>(m.hblkhd)},
        {{{"kind", "in_use"}}, static_cast<double>(m.uordblks + m.hblkhd)},
        {{{"kind", "free"}}, static_cast<double>(m.fordblks)},
    };
  });
}

}  // namespace k8s
