// Kubernetes' protobuf wire form of the built-in kinds (application/vnd.kubernetes.protobuf), as
// kube-apiserver v1.32 reads and writes it (k8s.io/apimachinery runtime/serializer/protobuf and
// the gogo-generated Marshal/Unmarshal of k8s.io/api v0.32.9), converted to and from the JSON
// the rest of kubesim works with. Pure: bytes <-> JSON by the builtin_schema model.
//
// On the wire a body is the 4 bytes "k8s\0" then a runtime.Unknown message {typeMeta{apiVersion,
// kind}, raw, contentEncoding, contentType} whose `raw` is the kind's message. The JSON side is
// Go's encoding/json of the decoded Go struct: Quantity, IntOrString, Time/MicroTime, Duration,
// RawExtension/FieldsV1 and []byte keep their Kubernetes JSON forms; an absent pointer or an
// empty omitempty field is omitted; a non-pointer field without omitempty takes Go's zero value
// (a zero metav1.Time is `null`).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_schema.h"

namespace kubesim::protobuf_codec {

inline constexpr std::string_view media_type = "application/vnd.kubernetes.protobuf";
inline constexpr std::string_view watch_media_type =
    "application/vnd.kubernetes.protobuf;stream=watch";

// A body the real decoder refuses. what() is the whole message of the 400 the create and update
// handlers answer with (handlers/rest.go transformDecodeError), e.g. `the object provided is
// unrecognized (must be of type Namespace): provided data does not appear to be a protobuf
// message, expected prefix [107 56 115 0] (7b7d)` or `Namespace in version "v1" cannot be
// handled as a Namespace: unexpected EOF`.
struct decode_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// runtime.Unknown, the envelope.
struct envelope {
  std::string api_version, kind;
  std::string raw;
  std::string content_encoding, content_type;
};

// The envelope of `body` (prefix checked). Throws std::runtime_error with Go's error text
// ("empty data", "provided data does not appear to be a protobuf message, expected prefix
// [107 56 115 0]", "unexpected EOF", ...).
envelope unwrap(std::string_view body);
// "k8s\0" + runtime.Unknown{typeMeta, raw, contentEncoding: "", contentType: ""}.
std::string wrap(std::string_view api_version, std::string_view kind, std::string_view raw);

// A message's wire bytes from its JSON (an object, or the JSON form of a special type).
// apiVersion/kind (TypeMeta) are not part of the message.
std::string encode(const builtin_schema::message& m, const k8s::json::Value& json);
// A message's JSON from its wire bytes (Go's JSON of the Go struct). Throws std::runtime_error
// with gogo-protobuf's error text ("unexpected EOF", "proto: wrong wireType = 0 for field
// Name", "proto: ObjectMeta: illegal tag 0 (wire type 2)").
k8s::json::Document decode(const builtin_schema::message& m, std::string_view wire);

// The body of a create or update of built-in kind group/version/kind (what the URL names) sent
// as protobuf, as the JSON object a JSON client would have sent: apiVersion and kind from the
// envelope (the URL's when the envelope has none, apimachinery's copyKindDefaults), then the
// message's fields. The caller still checks that apiVersion/kind are the URL's. Throws
// decode_error.
k8s::json::Document decode_protobuf_body(std::string_view body, std::string_view group,
                                         std::string_view version, std::string_view kind);

// The enveloped protobuf of an object, list or Status in JSON (its apiVersion and kind say what
// it is); nullopt when the model has no message for that kind (a custom resource).
std::optional<std::string> encode_object(const k8s::json::Value& obj);

// One event of a protobuf watch from its JSON form {"type": ..., "object": {...}}: what the real
// server's stream serializer writes (protobuf.LengthDelimitedFramer and the raw serializer): a
// 4-byte big-endian length, then metav1.WatchEvent{type, object: RawExtension{raw: the object
// enveloped as encode_object does}}.
std::string watch_frame(const k8s::json::Value& event);

// Whether a response to a request with this Accept header is protobuf: the first media range by
// quality (then order) that the endpoint can produce decides. `protobuf_ok`: the endpoint serves
// protobuf (built-in kinds, not Tables). Returns nullopt when nothing acceptable matches (406).
// Media ranges with parameters other than q and stream=watch (as=Table) are left to the caller.
std::optional<bool> negotiate_protobuf(std::string_view accept, bool protobuf_ok);

}  // namespace kubesim::protobuf_codec
