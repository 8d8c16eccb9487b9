// Server-side printing: the meta.k8s.io/v1 Table kube-apiserver returns when a client sends
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` asks for).
// kubectl prints the cells verbatim, so ages are computed here, as the real server does.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim {

using table_clock = std::chrono::system_clock;

// A Table of `items` (all of type `t`). `remaining_item_count` < 0 omits it; an empty
// `continue_token` omits `metadata.continue`. With `include_object` (includeObject=Metadata,
// the default) each row carries a PartialObjectMetadata with the object's metadata; without it
// (includeObject=None) rows have cells only. `now` is only a parameter for tests.
std::string table_json(const resource_type& t, const std::vector<snapshot_ptr>& items,
                       const std::string& resource_version, const std::string& continue_token,
                       long long remaining_item_count, bool include_object,
                       table_clock::time_point now = table_clock::now());

// The one-row Table a watch event carries as its `object`; its resourceVersion is the item's.
std::string table_row_json(const resource_type& t, const snapshot& item, bool include_object,
                           table_clock::time_point now = table_clock::now());

}  // namespace kubesim
