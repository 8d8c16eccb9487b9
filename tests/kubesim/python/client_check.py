"""Drives kubesim with the official Kubernetes Python client (Debian's python3-kubernetes).

Usage: client_check.py KUBECONFIG CONTROL_URL CONTROL_TOKEN CLUSTER

Prints "ok <check>" for each check that passes; on the first failure prints
"FAIL <check>: <why>" and exits 1. Run by tests/kubesim/python_client_test.cpp.
"""
import json
import sys
import threading
import time
import traceback
import urllib.request

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

KUBECONFIG, CONTROL_URL, CONTROL_TOKEN, CLUSTER = sys.argv[1:5]
GROUP, VERSION, PLURAL, NS = "db.orange.com", "v2", "cassandraclusters", "default"
CRD_NAME = PLURAL + "." + GROUP

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "names": {
            "kind": "CassandraCluster",
            "listKind": "CassandraClusterList",
            "plural": PLURAL,
            "singular": "cassandracluster",
            "shortNames": ["cassc", "casscs"],
        },
        "scope": "Namespaced",
        "versions": [{
            "name": VERSION,
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }],
    },
}


def cassandra(name, nodes):
    return {
        "apiVersion": GROUP + "/" + VERSION,
        "kind": "CassandraCluster",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"nodesPerRacks": nodes},
    }


def control(action):
    req = urllib.request.Request(
        "%s/clusters/%s/%s" % (CONTROL_URL, CLUSTER, action), method="POST", data=b"",
        headers={"Authorization": "Bearer " + CONTROL_TOKEN})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


class Failed(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Failed(why)


def ok(name):
    print("ok " + name, flush=True)


def main():
    config.load_kube_config(config_file=KUBECONFIG)
    ok("load_kube_config")

    version = client.VersionApi().get_code()
    expect(version.git_version.startswith("v1.32."), "gitVersion %s" % version.git_version)
    ok("version")

    ext = client.ApiextensionsV1Api()
    created = ext.create_custom_resource_definition(body=CRD)
    expect(created.metadata.name == CRD_NAME, "created CRD name %s" % created.metadata.name)
    deadline = time.time() + 20
    established = False
    while time.time() < deadline and not established:
        crd = ext.read_custom_resource_definition(CRD_NAME)
        conditions = (crd.status.conditions or []) if crd.status else []
        established = any(c.type == "Established" and c.status == "True" for c in conditions)
        if not established:
            time.sleep(0.1)
    expect(established, "CRD not Established within 20 s")
    expect(crd.status.accepted_names.plural == PLURAL, "acceptedNames %s" % crd.status.accepted_names)
    expect(crd.status.stored_versions == [VERSION], "storedVersions %s" % crd.status.stored_versions)
    ok("crd-established")

    co = client.CustomObjectsApi()
    obj = co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, cassandra("cc1", 3))
    created_rv = obj["metadata"]["resourceVersion"]
    expect(obj["metadata"].get("uid"), "no uid")
    expect(obj["metadata"].get("generation") == 1, "generation %s" % obj["metadata"].get("generation"))
    ok("create")

    try:
        co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, cassandra("cc1", 3))
        raise Failed("second create succeeded")
    except ApiException as e:
        expect(e.status == 409, "status %s" % e.status)
        expect(json.loads(e.body)["reason"] == "AlreadyExists", e.body)
    ok("create-conflict")

    listed = co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    expect(listed["kind"] == "CassandraClusterList", "kind %s" % listed["kind"])
    expect([i["metadata"]["name"] for i in listed["items"]] == ["cc1"], "items %s" % listed["items"])
    ok("list")

    patched = co.patch_namespaced_custom_object(
        GROUP, VERSION, NS, PLURAL, "cc1", {"spec": {"nodesPerRacks": 5}})
    expect(patched["spec"]["nodesPerRacks"] == 5, "spec %s" % patched["spec"])
    expect(patched["metadata"]["generation"] == 2, "generation %s" % patched["metadata"]["generation"])
    ok("patch")

    status = co.patch_namespaced_custom_object_status(
        GROUP, VERSION, NS, PLURAL, "cc1", {"status": {"phase": "Running"}, "spec": {"nodesPerRacks": 9}})
    expect(status["status"]["phase"] == "Running", "status %s" % status.get("status"))
    expect(status["spec"]["nodesPerRacks"] == 5, "status patch changed spec: %s" % status["spec"])
    expect(status["metadata"]["generation"] == 2, "generation %s" % status["metadata"]["generation"])
    ok("patch_status")

    stale = cassandra("cc1", 7)
    stale["metadata"]["resourceVersion"] = created_rv
    try:
        co.replace_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc1", stale)
        raise Failed("replace with a stale resourceVersion succeeded")
    except ApiException as e:
        expect(e.status == 409, "status %s" % e.status)
        expect(json.loads(e.body)["reason"] == "Conflict", e.body)
    ok("replace-stale-409")

    current = co.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc1")
    current["spec"]["nodesPerRacks"] = 7
    replaced = co.replace_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc1", current)
    expect(replaced["spec"]["nodesPerRacks"] == 7, "spec %s" % replaced["spec"])
    expect(replaced["status"]["phase"] == "Running", "replace dropped status: %s" % replaced.get("status"))
    ok("replace")

    # A watch from a list's resourceVersion sees a change made before it started (history)
    # and one made while it is open.
    rv = co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["metadata"]["resourceVersion"]
    co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc1", {"spec": {"nodesPerRacks": 8}})

    def later():
        time.sleep(0.3)
        co.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, cassandra("cc2", 1))

    writer = threading.Thread(target=later)
    seen = []
    w = watch.Watch()
    started = time.time()
    writer.start()
    for event in w.stream(co.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                          resource_version=rv, timeout_seconds=5, allow_watch_bookmarks=True):
        if event["type"] == "BOOKMARK":
            continue
        o = event["object"]
        seen.append((event["type"], o["metadata"]["name"], o["spec"]["nodesPerRacks"]))
        if len(seen) == 2:
            w.stop()
    writer.join()
    expect(seen == [("MODIFIED", "cc1", 8), ("ADDED", "cc2", 1)], "events %s" % seen)
    expect(time.time() - started < 4.5, "the watch did not stop when asked")
    ok("watch")

    deleted = co.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc2")
    expect(deleted.get("status") == "Success" or deleted.get("kind") == "CassandraCluster",
           "delete returned %s" % deleted)
    try:
        co.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc2")
        raise Failed("deleted object still there")
    except ApiException as e:
        expect(e.status == 404, "status %s" % e.status)
    ok("delete")

    old_rv = co.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["metadata"]["resourceVersion"]
    co.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "cc1", {"spec": {"nodesPerRacks": 4}})
    control("compact")
    try:
        for event in watch.Watch().stream(co.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                                          resource_version=old_rv, timeout_seconds=5):
            raise Failed("got %s from a compacted resourceVersion" % event["type"])
        raise Failed("the watch from a compacted resourceVersion ended without an error")
    except ApiException as e:
        expect(e.status == 410, "status %s" % e.status)
    ok("watch-410-after-compact")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        print("FAIL %s" % e, flush=True)
        sys.exit(1)
    except Exception:  # an unexpected exception from the client is a failure too
        print("FAIL unexpected exception:", flush=True)
        traceback.print_exc(file=sys.stdout)
        sys.exit(1)
    print("all checks passed", flush=True)
