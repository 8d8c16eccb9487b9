// The API resources multi-casskop reads and writes.
#pragma once

#include "k8s/api/resource.h"

namespace mc {

inline const k8s::resource cassandraclusters{"db.orange.com", "v2", "cassandraclusters",
                                             "CassandraCluster", true};
inline const k8s::resource multicasskops{"db.orange.com", "v2", "multicasskops", "MultiCasskop", true};
inline const k8s::resource core_events{"", "v1", "events", "Event", true};

}  // namespace mc
