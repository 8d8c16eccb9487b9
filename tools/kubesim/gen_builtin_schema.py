#!/usr/bin/env python3
"""Writes tools/kubesim/schemas/builtin-types-v1.32.json: the types of the built-in kinds kubesim
serves, read from the generated.proto and types.go files of k8s.io/api, k8s.io/apimachinery and
k8s.io/apiextensions-apiserver at one tag (v0.32.9, the libraries of Kubernetes v1.32).

Our own compact format (not a copy of theirs): per protobuf message, its fields with their JSON
name, proto number, type and the markers the API machinery reads from the comments
(+optional, +listType, +listMapKey, +patchStrategy, +patchMergeKey), the Go type (for the
decoder's error messages), the values of +enum string types, and descriptions made as
kube-openapi's generateDescription makes them.

Usage: gen_builtin_schema.py --mirrors DIR [--tag v0.32.9] [--out FILE]
DIR holds git clones of kubernetes/api, kubernetes/apimachinery and
kubernetes/apiextensions-apiserver as DIR/<owner>+<name>/repo, read with
`git show <tag>:<path>` (no work tree needed).
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

# Proto package -> (mirror repository, directory, Go package name used in reflect type strings).
PACKAGES = {
    "k8s.io.api.core.v1": ("kubernetes+api", "core/v1", "v1"),
    "k8s.io.api.apps.v1": ("kubernetes+api", "apps/v1", "v1"),
    "k8s.io.api.policy.v1": ("kubernetes+api", "policy/v1", "v1"),
    "k8s.io.api.coordination.v1": ("kubernetes+api", "coordination/v1", "v1"),
    "k8s.io.api.events.v1": ("kubernetes+api", "events/v1", "v1"),
    "k8s.io.api.rbac.v1": ("kubernetes+api", "rbac/v1", "v1"),
    "k8s.io.api.authorization.v1": ("kubernetes+api", "authorization/v1", "v1"),
    "k8s.io.api.authentication.v1": ("kubernetes+api", "authentication/v1", "v1"),
    "k8s.io.api.autoscaling.v1": ("kubernetes+api", "autoscaling/v1", "v1"),
    "k8s.io.api.discovery.v1": ("kubernetes+api", "discovery/v1", "v1"),
    "k8s.io.apimachinery.pkg.apis.meta.v1": ("kubernetes+apimachinery", "pkg/apis/meta/v1", "v1"),
    "k8s.io.apimachinery.pkg.api.resource": ("kubernetes+apimachinery", "pkg/api/resource", "resource"),
    "k8s.io.apimachinery.pkg.util.intstr": ("kubernetes+apimachinery", "pkg/util/intstr", "intstr"),
    "k8s.io.apimachinery.pkg.runtime": ("kubernetes+apimachinery", "pkg/runtime", "runtime"),
    "k8s.io.apimachinery.pkg.runtime.schema": ("kubernetes+apimachinery", "pkg/runtime/schema", "schema"),
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1": (
        "kubernetes+apiextensions-apiserver", "pkg/apis/apiextensions/v1", "v1"),
}

# The kinds kubesim serves (tools/kubesim/resource_types.cpp) and the API objects around them:
# (group, version, kind, proto message). Each kind's List is added when it exists.
KINDS = [
    ("", "v1", "Namespace", "k8s.io.api.core.v1.Namespace"),
    ("", "v1", "ConfigMap", "k8s.io.api.core.v1.ConfigMap"),
    ("", "v1", "Secret", "k8s.io.api.core.v1.Secret"),
    ("", "v1", "ServiceAccount", "k8s.io.api.core.v1.ServiceAccount"),
    ("", "v1", "Service", "k8s.io.api.core.v1.Service"),
    ("", "v1", "Pod", "k8s.io.api.core.v1.Pod"),
    ("", "v1", "PersistentVolumeClaim", "k8s.io.api.core.v1.PersistentVolumeClaim"),
    ("", "v1", "Event", "k8s.io.api.core.v1.Event"),
    ("", "v1", "Endpoints", "k8s.io.api.core.v1.Endpoints"),
    ("apps", "v1", "StatefulSet", "k8s.io.api.apps.v1.StatefulSet"),
    ("apps", "v1", "Deployment", "k8s.io.api.apps.v1.Deployment"),
    ("apps", "v1", "ReplicaSet", "k8s.io.api.apps.v1.ReplicaSet"),
    ("apps", "v1", "ControllerRevision", "k8s.io.api.apps.v1.ControllerRevision"),
    ("policy", "v1", "PodDisruptionBudget", "k8s.io.api.policy.v1.PodDisruptionBudget"),
    ("policy", "v1", "Eviction", "k8s.io.api.policy.v1.Eviction"),
    ("events.k8s.io", "v1", "Event", "k8s.io.api.events.v1.Event"),
    ("coordination.k8s.io", "v1", "Lease", "k8s.io.api.coordination.v1.Lease"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
     "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "v1", "Role", "k8s.io.api.rbac.v1.Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "k8s.io.api.rbac.v1.RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "k8s.io.api.rbac.v1.ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "k8s.io.api.rbac.v1.ClusterRoleBinding"),
    ("authorization.k8s.io", "v1", "SubjectAccessReview", "k8s.io.api.authorization.v1.SubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview",
     "k8s.io.api.authorization.v1.SelfSubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectRulesReview",
     "k8s.io.api.authorization.v1.SelfSubjectRulesReview"),
    ("authentication.k8s.io", "v1", "TokenReview", "k8s.io.api.authentication.v1.TokenReview"),
    ("authentication.k8s.io", "v1", "SelfSubjectReview", "k8s.io.api.authentication.v1.SelfSubjectReview"),
    ("authentication.k8s.io", "v1", "TokenRequest", "k8s.io.api.authentication.v1.TokenRequest"),
    ("autoscaling", "v1", "Scale", "k8s.io.api.autoscaling.v1.Scale"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "k8s.io.api.discovery.v1.EndpointSlice"),
    ("meta.k8s.io", "v1", "Status", "k8s.io.apimachinery.pkg.apis.meta.v1.Status"),
    ("meta.k8s.io", "v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
]

# Messages whose JSON form is not their proto fields (custom MarshalJSON/OpenAPI definitions in
# apimachinery): the JSON form kube-openapi gives them.
SPECIAL = {
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "date-time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "date-time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "object",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "object",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON": "any",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": "any",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": "any",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": "any",
    "k8s.io.api.authentication.v1.ExtraValue": "string-array",
    "k8s.io.api.authorization.v1.ExtraValue": "string-array",
}

SCALARS = {"string", "bool", "int32", "int64", "double", "float", "bytes", "uint32", "uint64"}


def git_show(mirrors, repo, tag, path):
    return subprocess.run(["git", "-C", os.path.join(mirrors, repo, "repo"), "show", f"{tag}:{path}"],
                          check=True, capture_output=True, text=True).stdout


def git_ls(mirrors, repo, tag, directory):
    out = subprocess.run(["git", "-C", os.path.join(mirrors, repo, "repo"), "ls-tree", "--name-only",
                          f"{tag}", directory + "/"], check=True, capture_output=True, text=True).stdout
    return [p for p in out.split("\n") if p.endswith(".go") and not p.endswith("_test.go")
            and "generated" not in os.path.basename(p) and "fuzz" not in p]


def description(lines):
    """kube-openapi pkg/generators/openapi.go generateDescription."""
    buf = ""
    for line in lines:
        if line == "---":
            break
        line = line.rstrip(" ")
        leading = line.lstrip(" ")
        if not line:
            buf = buf[:-1] if buf else buf
            buf += "\n\n"
        elif leading.startswith("TODO") or leading.startswith("+"):
            continue
        else:
            if line.startswith(" ") or line.startswith("\t"):
                buf = buf[:-1] if buf else buf
                buf += "\n" + line + "\n"
            else:
                buf += line + " "
    return buf.strip()


def markers(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*\+([\w.\-]+)(?:=(.*))?$", line)
        if m:
            out.setdefault(m.group(1), []).append((m.group(2) or "").strip())
    return out


def comment_text(raw):
    """A '// text' comment line without the comment mark (one leading space removed)."""
    s = raw.strip()[2:]
    return s[1:] if s.startswith(" ") else s


def parse_proto(text, package):
    messages = {}
    comments = []
    current = None
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("//"):
            comments.append(comment_text(line))
            continue
        if current is None:
            m = re.match(r"^message (\w+) \{$", line)
            if m:
                current = {"name": package + "." + m.group(1), "comments": comments, "fields": []}
            comments = []
            continue
        if line == "}":
            messages[current["name"]] = current
            current = None
            comments = []
            continue
        m = re.match(r"^(optional|repeated) ([\w.]+) (\w+) = (\d+);$", line)
        mm = re.match(r"^map<([\w.]+), ([\w.]+)> (\w+) = (\d+);$", line)
        if m:
            current["fields"].append({"label": m.group(1), "type": m.group(2), "name": m.group(3),
                                      "number": int(m.group(4)), "comments": comments})
        elif mm:
            current["fields"].append({"label": "map", "key": mm.group(1), "type": mm.group(2),
                                      "name": mm.group(3), "number": int(mm.group(4)),
                                      "comments": comments})
        elif line and not line.startswith("option") and not line.startswith("reserved"):
            sys.exit(f"unparsed line in {package}: {line}")
        comments = []
    return messages


def resolve(type_name, package):
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        return type_name[1:]
    return package + "." + type_name


def parse_go(texts):
    """Struct fields (json name, Go type, omitempty, inline) and +enum types with their values."""
    structs, enums, type_docs = {}, {}, {}
    for text in texts:
        lines = text.split("\n")
        comments = []
        struct = None
        in_const = False
        for raw in lines:
            line = raw.strip()
            if line.startswith("//"):
                comments.append(comment_text(line))
                continue
            m = re.match(r"^type (\w+) (struct \{|string$|\w)", line)
            if m and struct is None:
                name = m.group(1)
                type_docs[name] = comments
                if m.group(2) == "string" and "enum" in markers(comments):
                    enums[name] = {"comments": comments, "values": []}
                if m.group(2) == "struct {":
                    struct = name
                    structs[name] = []
                comments = []
                continue
            if struct is not None:
                if line == "}":
                    struct = None
                else:
                    fm = re.match(r'^(?:(\w+)\s+)?([\w.*\[\]]+(?:\[[\w.*\]]+)?[\w.*\[\]]*)\s+`(.*)`$', line)
                    if fm:
                        tags = dict(re.findall(r'(\w+):"([^"]*)"', fm.group(3)))
                        jtag = tags.get("json", "")
                        jname, _, opts = jtag.partition(",")
                        proto_name = ""
                        pm = re.search(r"name=(\w+)", tags.get("protobuf", ""))
                        if pm:
                            proto_name = pm.group(1)
                        structs[struct].append({
                            "go_name": fm.group(1) or fm.group(2).split(".")[-1].lstrip("*"),
                            "go_type": fm.group(2), "json": jname, "omitempty": "omitempty" in opts,
                            "inline": "inline" in opts, "proto": proto_name})
                comments = []
                continue
            if line == "const (":
                in_const = True
                comments = []
                continue
            if in_const:
                if line == ")":
                    in_const = False
                cm = re.match(r'^(\w+)\s+(\w+)\s*=\s*"([^"]*)"', line)
                if cm:
                    enums.setdefault("#consts", []).append((cm.group(2), cm.group(1), cm.group(3),
                                                            " ".join(comments)))
                comments = []
                continue
            comments = []
    for type_name, const_name, value, comment in enums.pop("#consts", []):
        if type_name in enums:
            values = enums[type_name]["values"]
            if any(v["value"] == value for v in values):
                continue
            values.append({"value": value, "name": const_name, "comment": comment})
    return structs, enums, type_docs


def go_type_string(go_type, go_pkg):
    """reflect.Type.String() of a field's type once encoding/json has followed its pointer."""
    t = go_type.lstrip("*")

    def qualify(name):
        name = name.lstrip("*")
        if "." in name:
            pkg, base = name.split(".", 1)
            return {"metav1": "v1", "corev1": "v1", "v1": "v1", "apiextensionsv1": "v1"}.get(pkg, pkg) + "." + base
        if name in ("string", "bool", "int", "int32", "int64", "float64", "float32", "byte", "uint8",
                    "uint32", "uint64"):
            return "uint8" if name == "byte" else name
        return go_pkg + "." + name

    m = re.match(r"^map\[([^\]]+)\](.*)$", t)
    if m:
        return "map[" + qualify(m.group(1)) + "]" + go_type_string(m.group(2), go_pkg)
    if t.startswith("[]"):
        return "[]" + go_type_string(t[2:], go_pkg)
    return qualify(t)


def enum_description_lines(enum):
    """kube-openapi enum.go DescriptionLines."""
    lines = []
    for v in enum["values"]:
        comment = v["comment"].strip()
        if comment.startswith(v["name"]):
            comment = comment[len(v["name"]):]
        comment = re.sub(r"\s+", " ", comment.strip())
        lines.append(" - `" + json.dumps(v["value"]) + "` " + comment)
    lines.sort()
    return ["", "Possible enum values:"] + lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", required=True,
                    help="directory of the git clones, as DIR/<owner>+<name>/repo")
    ap.add_argument("--tag", default="v0.32.9")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas",
                                                  "builtin-types-v1.32.json"))
    args = ap.parse_args()

    protos, go = {}, {}
    for package, (repo, directory, go_pkg) in PACKAGES.items():
        protos.update(parse_proto(git_show(args.mirrors, repo, args.tag, directory + "/generated.proto"),
                                  package))
        texts = [git_show(args.mirrors, repo, args.tag, p) for p in git_ls(args.mirrors, repo, args.tag, directory)]
        go[package] = parse_go(texts) + (go_pkg,)

    # Everything the kinds reference.
    wanted, queue = set(), [k[3] for k in KINDS] + [k[3] + "List" for k in KINDS]
    queue = [q for q in queue if q in protos]
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted.add(name)
        if name in SPECIAL:
            continue
        package = name.rsplit(".", 1)[0]
        for f in protos[name]["fields"]:
            t = resolve(f["type"], package)
            if t not in SCALARS:
                queue.append(t)

    out_messages = {}
    exceptions = []
    for name in sorted(wanted):
        msg = protos[name]
        package, short = name.rsplit(".", 1)
        structs, enums, type_docs, go_pkg = go[package]
        go_fields = structs.get(short, [])
        doc_lines = msg["comments"] or type_docs.get(short, [])
        entry = {"go": go_pkg + "." + short, "description": description(doc_lines)}
        if name in SPECIAL:
            entry["json"] = SPECIAL[name]
        type_markers = markers(msg["comments"] or type_docs.get(short, []))
        if "structType" in type_markers:  # a type-level marker (+structType=atomic)
            entry["structType"] = type_markers["structType"][0]
        by_proto = {g["proto"]: g for g in go_fields if g["proto"]}
        fields = []
        if any(g["inline"] and g["go_type"].endswith("TypeMeta") for g in go_fields):
            tm = structs_of(go, "k8s.io.apimachinery.pkg.apis.meta.v1")
            for jname in ("apiVersion", "kind"):
                fields.append({"name": jname, "number": 0, "type": "string", "goType": "string",
                               "optional": True, "typeMeta": True,
                               "description": typemeta_doc(protos, jname)})
        for f in msg["fields"]:
            g = by_proto.get(f["name"]) or next(
                (g for g in go_fields if g["go_name"][:1].lower() + g["go_name"][1:] == f["name"]), None)
            jname = g["json"] if g and g["json"] else f["name"]
            if jname != f["name"] and name not in SPECIAL and not (g and g["inline"]):
                exceptions.append(f"{name}.{f['name']} -> {jname}")
            mk = markers(f["comments"])
            field = {"name": jname, "number": f["number"]}
            if g and g["inline"]:
                jname = f["name"]
                field = {"name": jname, "number": f["number"], "inline": True}
            elif jname != f["name"]:
                field["protoName"] = f["name"]
            t = resolve(f["type"], package)
            if f["label"] == "map":
                field["map"] = True
                field["key"] = f["key"]
            elif f["label"] == "repeated":
                field["repeated"] = True
            field["type"] = t
            if g:
                field["goType"] = go_type_string(g["go_type"], go_pkg)
                if g["go_type"].startswith("*"):
                    field["pointer"] = True
                enum = find_enum(go, package, g["go_type"])
                if enum:
                    field["enum"] = sorted(v["value"] for v in enum["values"])
            optional = "optional" in mk or (g is not None and g["omitempty"])
            if optional:
                field["optional"] = True
            if g is not None and g["omitempty"]:
                field["omitempty"] = True
            for marker, key in (("listType", "listType"), ("patchStrategy", "patchStrategy"),
                                ("patchMergeKey", "patchMergeKey"), ("mapType", "mapType"),
                                ("structType", "structType")):
                if marker in mk:
                    field[key] = mk[marker][0]
            if "listMapKey" in mk:
                field["listMapKeys"] = mk["listMapKey"]
            if "default" in mk:  # +default=<JSON>, as openapi-gen publishes it
                field["default"] = mk["default"][0]
            lines = list(f["comments"])
            if "enum" in field:
                lines += enum_description_lines(find_enum(go, package, g["go_type"]))
            field["description"] = description(lines)
            fields.append(field)
        if name not in SPECIAL:
            entry["fields"] = fields
        else:
            entry["protoFields"] = [{"name": f["name"], "number": f["number"],
                                     "type": resolve(f["type"], package)} for f in msg["fields"]]
        out_messages[name] = entry

    kinds = []
    for group, version, kind, message in KINDS:
        if message not in protos:
            continue
        kinds.append({"group": group, "version": version, "kind": kind, "message": message})
        if message + "List" in protos:
            kinds.append({"group": group, "version": version, "kind": kind + "List",
                          "message": message + "List"})
    data = {
        "source": f"k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver {args.tag} "
                  "(Kubernetes v1.32): generated.proto and types.go, by tools/kubesim/gen_builtin_schema.py",
        "tag": args.tag,
        "jsonNameExceptions": exceptions,
        "kinds": kinds,
        "messages": out_messages,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"{args.out}: {len(out_messages)} messages, {len(kinds)} kinds")


def find_enum(go, package, go_type):
    """The +enum type a field's Go type names: in its own package, or through the import aliases
    these packages use for core/v1 ("v1.", "corev1.") and meta/v1 ("metav1.")."""
    base = re.sub(r"^[\[\]*]*", "", go_type)
    if "." not in base:
        return go[package][1].get(base)
    alias, name = base.split(".", 1)
    target = {"v1": "k8s.io.api.core.v1", "corev1": "k8s.io.api.core.v1",
              "metav1": "k8s.io.apimachinery.pkg.apis.meta.v1"}.get(alias)
    return go[target][1].get(name) if target in go else None


def structs_of(go, package):
    return go[package][0]


def typemeta_doc(protos, jname):
    msg = protos["k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta"]
    for f in msg["fields"]:
        if f["name"] == jname:
            return description(f["comments"])
    return ""


if __name__ == "__main__":
    main()
