// One Event store behind both Event APIs: kube-apiserver keeps core/v1 and events.k8s.io/v1
// Events as the same objects and converts between them (pkg/apis/events/v1/conversion.go,
// v1.32): note <-> message, regarding <-> involvedObject, reportingController <->
// reportingComponent, deprecatedSource <-> source, deprecatedFirstTimestamp/LastTimestamp/Count
// <-> firstTimestamp/lastTimestamp/count; eventTime, series, action, reason, type, related and
// reportingInstance keep their names. kubesim stores the core/v1 form.
#pragma once

#include "k8s/json/json.h"

namespace kubesim::events {

// A stored core/v1 Event as events.k8s.io/v1 serializes it.
k8s::json::Document to_events_v1(const k8s::json::Value& core);
// An events.k8s.io/v1 Event in the core/v1 form it is stored in.
k8s::json::Document to_core_v1(const k8s::json::Value& event);

}  // namespace kubesim::events
