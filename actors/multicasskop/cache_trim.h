// What the operator keeps of a watched object: its watch caches hold thousands of them, and the
// state machine reads only part of each. Dropped:
// - metadata.managedFields (server-side apply bookkeeping, often the largest part of an object)
//   and kubectl's last-applied-configuration annotation (a whole copy of what was applied);
// - a CassandraCluster's spec when it carries our last-applied annotation: three-way updates
//   compare against that record of our own write, never against the live spec (which is only
//   read when the record is missing, and is then kept).
#pragma once

#include "messages/events.h"

namespace mc {

enum class watched_kind { multicasskop, cassandracluster };

// The object to cache: `obj` itself when there is nothing to drop, else a compact copy without
// those parts.
object_ptr trim_for_cache(const object_ptr& obj, watched_kind kind);

}  // namespace mc
