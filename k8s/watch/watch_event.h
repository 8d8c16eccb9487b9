// One line of a watch stream, decoded: {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "k8s/api/api_error.h"
#include "k8s/json/json.h"

namespace k8s {

struct watch_event {
  enum class type { added, modified, deleted, bookmark, error };
  type kind = type::added;
  std::shared_ptr<const json::Document> object;  // whole object; for bookmark only metadata
  std::string resource_version;                  // object's metadata.resourceVersion
  api_error error;                               // kind == error: from the Status object
};

// Decodes one line; returns false with `why` set when it is not a watch event. Never throws:
// a garbled line is a protocol error the caller reports and recovers from (relist).
bool decode_watch_line(std::string_view line, watch_event& out, std::string& why);

}  // namespace k8s
