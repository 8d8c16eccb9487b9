// Server-side apply and field ownership, as kube-apiserver v1.32 does them:
// sigs.k8s.io/structured-merge-diff v4.4.2 (typed Merge, Compare, ToFieldSet; merge/update.go
// Updater.Update, Apply, prune, conflicts) behind k8s.io/apimachinery v0.32.9
// pkg/util/managedfields/internal (fieldmanager.go, managedfieldsupdater.go, stripmeta.go,
// capmanagers.go, versioncheck.go, conflict.go).
//
// Pure: works on JSON documents with an ssa_schema; no locks, no I/O.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "k8s/json/json.h"
#include "tools/kubesim/managed_fields.h"
#include "tools/kubesim/ssa_schema.h"

namespace kubesim::ssa {

// What one write's field manager knows of it.
struct write_context {
  const ssa_schema& schema;
  std::string manager;      // the request's manager (manager_for())
  std::string api_version;  // of the request's URL: "apps/v1"
  std::string kind;
  std::string subresource;             // "" or "status"
  bool status_is_subresource = false;  // the main resource's writes ignore `status`
  std::string now;                     // RFC 3339, whole seconds
};

// managerOrUserAgent (endpoints/handlers/create.go): fieldManager, else the User-Agent up to its
// first '/', printable characters only, at most 128 bytes.
std::string manager_for(std::string_view field_manager, std::string_view user_agent);

// The managed fields an update starts from (fieldmanager.go decodeLiveOrNew), read from the
// request's object before the write drops its metadata.managedFields.
struct managed_input {
  enum source_t { live, request, reset } source = live;
  std::unique_ptr<k8s::json::Document> request_entries;  // source == request
};
managed_input read_request_managed(const k8s::json::Value& request_obj,
                                   const k8s::json::Value* live_obj, bool subresource);

// Create, update and non-apply patches (FieldManager.UpdateNoErrors): records what changed from
// `live` (null: a create, compared with the kind's zero object) to `next` as owned by the
// context's manager (operation Update) and taken from others; sets next's managedFields.
void track_update(const write_context& c, const k8s::json::Value* live, const managed_input& in,
                  k8s::json::Document& next);

// Server-side apply of `config` onto `live` (null: create). Returns the object to store with its
// managedFields; `changed` is false when only managedFields may differ from live. Throws
// api_error: 409 on conflicts (unless force), 400 for a config of another kind or version, 500
// for a config the schema cannot type.
struct apply_result {
  k8s::json::Document object;
  bool changed = true;
};
apply_result apply(const write_context& c, const k8s::json::Value* live,
                   const k8s::json::Value& config, bool force);

}  // namespace kubesim::ssa
