#include "ring.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace kubesim::cassandra {

std::vector<Keyspace> system_keyspaces_3_11() {
  return {
      {"system", {"LocalStrategy", {}}},
      {"system_schema", {"LocalStrategy", {}}},
      {"system_auth", {"SimpleStrategy", {{"replication_factor", "1"}}}},
      {"system_distributed", {"SimpleStrategy", {{"replication_factor", "3"}}}},
      {"system_traces", {"SimpleStrategy", {{"replication_factor", "2"}}}},
  };
}

namespace {

std::vector<std::string> split_seeds(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',') {
      // bash's `read -a` with IFS=',' then the unquoted ${array[@]}: blanks around are dropped.
      auto b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

int rf_of(const std::string& s) {
  try {
    return std::max(0, std::stoi(s));
  } catch (...) {
    return 0;
  }
}

}  // namespace

// ---- node lifecycle ------------------------------------------------------------------------

StartOutcome Rings::start(Time now, const StartSpec& spec, DiskState disk, const SeedProbe& probe,
                          uint64_t random) {
  const std::string& pod = spec.identity.pod;
  auto& slot = nodes_[pod];
  if (!slot) slot = std::make_unique<Node>(spec.identity, defaults_);
  slot->stop();
  const NodeIdentity previous = slot->identity();
  slot->identity() = spec.identity;
  StartOutcome out;
  if (!slot->faults().crash_at_start.empty()) {
    // The crash-loop fault: Cassandra exits during its start; peers keep it where it was.
    slot->identity() = previous;
    out.error = slot->faults().crash_at_start;
    return out;
  }

  // run.sh (ref §3 "First-node logic"): `nc -z -w5 <seed> 8778` on each seed in order, stop at
  // the first that answers; none answers: CASSANDRA_SEEDS=$(hostname -f), a ring of its own.
  // An empty CASSANDRA_SEEDS makes the seed the pod IP: the same.
  std::vector<std::string> seeds = split_seeds(spec.seeds);
  const Node* contact = nullptr;
  for (const std::string& seed : seeds) {
    std::optional<std::string> ip = probe ? probe(seed) : std::nullopt;
    if (!ip) continue;
    out.seed_used = seed;
    contact = node_by_ip(*ip);
    break;
  }
  if (out.seed_used.empty()) {
    out.founded = true;
    seeds = {spec.own_names.empty() ? spec.identity.ip : spec.own_names.front()};
  } else if (!contact || contact == slot.get() || !ring_of(contact->identity().pod)) {
    // Something answered on 8778 but is no Cassandra node of a ring: gossip finds no seed and
    // Cassandra exits (ref §5 "A non-seed with no live seed fails").
    out.error = "Unable to gossip with any seeds";
    return out;
  }
  if (!out.founded) {
    // Gossiper.isSafeForStartup via StorageService.checkForEndpointCollision: the ring still has
    // a member at this address with another host id (down, not removed), so Cassandra exits.
    // 3.11 checks only a bootstrapping node, 4.0 every node (CASSANDRA-10134); kubesim checks
    // every start, the case CassKop's IP-swap check is for (reconcile.go:786-830 of v2.1.0).
    for (const std::string& p : ring_of(contact->identity().pod)->members) {
      const Node* other = node(p);
      if (p == pod || !other || other->identity().ip != spec.identity.ip ||
          other->disk().host_id == disk.host_id || !has_normal_tokens(*other))
        continue;
      slot->identity() = previous;  // peers keep the node at its last address
      out.error = "A node with address /" + spec.identity.ip +
                  " already exists, cancelling join. Use cassandra.replace_address if you want "
                  "to replace this node.";
      return out;
    }
  }
  for (const std::string& s : seeds) {
    if (s == spec.identity.ip ||
        std::find(spec.own_names.begin(), spec.own_names.end(), s) != spec.own_names.end())
      out.is_seed = true;
  }

  // Leave the ring it was in when it changes rings (a member of one ring at a time).
  int old_ring = ring_of_.count(pod) ? ring_of_[pod] : 0;
  int new_ring = 0;
  if (out.founded) {
    auto r = std::make_unique<Ring>();
    r->id = next_ring_++;
    r->cluster = spec.identity.cluster;
    r->keyspaces = system_keyspaces_3_11();
    new_ring = r->id;
    rings_.push_back(std::move(r));
  } else {
    new_ring = ring_of_[contact->identity().pod];
  }
  if (old_ring && old_ring != new_ring) {
    if (Ring* r = ring_of(pod))
      r->members.erase(std::remove(r->members.begin(), r->members.end(), pod), r->members.end());
  }
  ring_of_[pod] = new_ring;
  Ring* ring = ring_of(pod);
  if (std::find(ring->members.begin(), ring->members.end(), pod) == ring->members.end())
    ring->members.push_back(pod);
  out.ring = new_ring;

  if (spec.num_tokens > 0) slot->settings().num_tokens = spec.num_tokens;
  if (auto err = slot->start(now, std::move(disk), out.is_seed, !out.founded, random)) {
    out.error = *err;
    ring->members.erase(std::remove(ring->members.begin(), ring->members.end(), pod),
                        ring->members.end());
  }
  return out;
}

void Rings::stop(const std::string& pod) {
  if (Node* n = node(pod)) n->stop();
}

void Rings::advance(Time now) {
  for (auto& [pod, n] : nodes_) n->advance(now);
  for (auto& r : rings_) {
    // A decommissioned node drops out of its peers' HostIdMap (ref §4).
    r->members.erase(std::remove_if(r->members.begin(), r->members.end(),
                                    [&](const std::string& p) {
                                      const Node* n = node(p);
                                      return !n || n->mode() == Mode::Decommissioned;
                                    }),
                     r->members.end());
    // A removeNode that ended takes the dead node out of the ring.
    for (auto it = r->removing.begin(); it != r->removing.end();) {
      if (now >= it->second) {
        r->members.erase(std::remove(r->members.begin(), r->members.end(), it->first),
                         r->members.end());
        it = r->removing.erase(it);
      } else {
        ++it;
      }
    }
  }
}

Node* Rings::node(const std::string& pod) {
  auto it = nodes_.find(pod);
  return it == nodes_.end() ? nullptr : it->second.get();
}
const Node* Rings::node(const std::string& pod) const {
  auto it = nodes_.find(pod);
  return it == nodes_.end() ? nullptr : it->second.get();
}
const Node* Rings::node_by_ip(const std::string& ip) const {
  for (auto& [pod, n] : nodes_)
    if (n->jvm_up() && n->identity().ip == ip) return n.get();
  return nullptr;
}
Ring* Rings::ring_of(const std::string& pod) {
  auto it = ring_of_.find(pod);
  if (it == ring_of_.end()) return nullptr;
  for (auto& r : rings_)
    if (r->id == it->second) return r.get();
  return nullptr;
}
const Ring* Rings::ring_of(const std::string& pod) const {
  return const_cast<Rings*>(this)->ring_of(pod);
}
std::vector<const Ring*> Rings::rings() const {
  std::vector<const Ring*> out;
  for (auto& r : rings_)
    if (!r->members.empty()) out.push_back(r.get());
  return out;
}

// ---- views ---------------------------------------------------------------------------------

// Normal tokens: a node that finished bootstrap (or a seed/founder at NORMAL), also while it is
// down or restarting; a JOINING node has bootstrap tokens only.
bool Rings::has_normal_tokens(const Node& n) const {
  if (n.mode() == Mode::Decommissioned) return false;
  if (n.mode() == Mode::Joining && !n.disk().bootstrapped) return false;
  return n.disk().bootstrapped || n.mode() == Mode::Normal || n.mode() == Mode::Leaving;
}

std::vector<const Node*> Rings::token_owners(const Ring& r, bool with_joining) const {
  std::vector<const Node*> out;
  for (const std::string& p : r.members) {
    const Node* n = node(p);
    if (!n) continue;
    if (has_normal_tokens(*n) || (with_joining && n->mode() == Mode::Joining && n->jvm_up()))
      out.push_back(n);
  }
  return out;
}

namespace {
bool removing(const Ring& r, const std::string& pod) {
  for (auto& [p, t] : r.removing)
    if (p == pod) return true;
  return false;
}
}  // namespace

std::vector<std::string> Rings::live_nodes(const std::string& pod) const {
  std::vector<std::string> out;
  const Node* self = node(pod);
  // Gossiper.getLiveMembers always holds the local node, even DECOMMISSIONED (ref §2).
  if (self) out.push_back(self->identity().ip);
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, true))
      if (n != self && n->jvm_up()) out.push_back(n->identity().ip);
  return out;
}

std::vector<std::string> Rings::unreachable_nodes(const std::string& pod) const {
  std::vector<std::string> out;
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, false))
      if (!n->jvm_up() && n->identity().pod != pod) out.push_back(n->identity().ip);
  return out;
}

std::vector<std::string> Rings::joining_nodes(const std::string& pod) const {
  std::vector<std::string> out;
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, true))
      if (n->mode() == Mode::Joining && !has_normal_tokens(*n)) out.push_back(n->identity().ip);
  return out;
}

std::vector<std::string> Rings::leaving_nodes(const std::string& pod) const {
  std::vector<std::string> out;
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, false))
      if (n->mode() == Mode::Leaving || removing(*r, n->identity().pod))
        out.push_back(n->identity().ip);
  return out;
}

std::vector<std::pair<std::string, std::string>> Rings::host_id_map(const std::string& pod) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, true))
      out.emplace_back(n->identity().ip, n->disk().host_id);
  return out;
}

std::vector<std::string> Rings::keyspace_names(const std::string& pod) const {
  std::vector<std::string> out;
  if (const Ring* r = ring_of(pod))
    for (const Keyspace& k : r->keyspaces) out.push_back(k.name);
  return out;
}

// ---- replication ---------------------------------------------------------------------------

std::vector<TokenRangeReplicas> replicas_by_range(const std::vector<const Node*>& owners,
                                                  const Replication& replication) {
  std::vector<std::pair<int64_t, const Node*>> ring;
  for (const Node* n : owners)
    for (int64_t t : n->disk().tokens) ring.emplace_back(t, n);
  std::sort(ring.begin(), ring.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<TokenRangeReplicas> out;
  if (ring.empty()) return out;
  // Per DC: its nodes and racks (TokenMetadata.Topology).
  std::map<std::string, std::set<const Node*>> dc_nodes;
  std::map<std::string, std::set<std::string>> dc_racks;
  for (const Node* n : owners) {
    dc_nodes[n->identity().dc].insert(n);
    dc_racks[n->identity().dc].insert(n->identity().rack);
  }
  const size_t size = ring.size();
  for (size_t i = 0; i < size; ++i) {
    TokenRangeReplicas range;
    range.start = ring[(i + size - 1) % size].first;
    range.end = ring[i].first;
    auto add = [&](const Node* n) {
      if (std::find(range.replicas.begin(), range.replicas.end(), n) == range.replicas.end())
        range.replicas.push_back(n);
    };
    if (replication.strategy == "SimpleStrategy") {
      // SimpleStrategy.calculateNaturalEndpoints: the next distinct nodes clockwise.
      size_t rf = size_t(rf_of(replication.options.count("replication_factor")
                                   ? replication.options.at("replication_factor")
                                   : "0"));
      for (size_t k = 0; k < size && range.replicas.size() < std::min(rf, owners.size()); ++k)
        add(ring[(i + k) % size].second);
    } else if (replication.strategy == "NetworkTopologyStrategy") {
      // NetworkTopologyStrategy.calculateNaturalEndpoints of 3.11: one walk clockwise; per DC
      // prefer nodes of racks not seen yet, then the skipped ones in walk order.
      std::map<std::string, size_t> want;
      for (auto& [dc, v] : replication.options)
        if (dc_nodes.count(dc)) want[dc] = std::min<size_t>(rf_of(v), dc_nodes[dc].size());
      std::map<std::string, std::set<const Node*>> got;
      std::map<std::string, std::set<std::string>> seen_racks;
      std::map<std::string, std::vector<const Node*>> skipped;
      auto enough = [&](const std::string& dc) { return got[dc].size() >= want[dc]; };
      auto all_enough = [&] {
        for (auto& [dc, n] : want)
          if (got[dc].size() < n) return false;
        return true;
      };
      for (size_t k = 0; k < size && !all_enough(); ++k) {
        const Node* n = ring[(i + k) % size].second;
        const std::string& dc = n->identity().dc;
        if (!want.count(dc) || enough(dc)) continue;
        if (seen_racks[dc].size() == dc_racks[dc].size()) {
          got[dc].insert(n);
          add(n);
        } else if (seen_racks[dc].count(n->identity().rack)) {
          if (std::find(skipped[dc].begin(), skipped[dc].end(), n) == skipped[dc].end())
            skipped[dc].push_back(n);
        } else {
          got[dc].insert(n);
          add(n);
          seen_racks[dc].insert(n->identity().rack);
          if (seen_racks[dc].size() == dc_racks[dc].size())
            for (const Node* s : skipped[dc]) {
              if (enough(dc)) break;
              got[dc].insert(s);
              add(s);
            }
        }
      }
    }
    out.push_back(std::move(range));
  }
  return out;
}

JmxResult<std::vector<std::string>> Rings::describe_ring(const std::string& pod,
                                                         const std::string& keyspace) const {
  const Ring* r = ring_of(pod);
  const Keyspace* ks = nullptr;
  if (r)
    for (const Keyspace& k : r->keyspaces)
      if (k.name == keyspace) ks = &k;
  // Keyspace.open asserts (Cassandra runs with -ea); describeRing refuses LocalStrategy and the
  // IOException of describeRingJMX carries the message (ref §6 "describeRingJMX error").
  if (const Node* self = node(pod); self && !self->faults().describe_ring_error.empty())
    return JavaError{"java.io.IOException", self->faults().describe_ring_error};
  if (!ks) return JavaError{"java.lang.AssertionError", "Unknown keyspace " + keyspace};
  if (ks->replication.strategy == "LocalStrategy")
    return JavaError{"java.io.IOException", "There is no ring for the keyspace: " + keyspace};
  std::vector<std::string> out;
  for (const TokenRangeReplicas& range :
       replicas_by_range(token_owners(*r, false), ks->replication)) {
    // Thrift's TokenRange.toString (ref §1 call 6).
    std::string eps, details;
    for (const Node* n : range.replicas) {
      if (!eps.empty()) eps += ", ", details += ", ";
      eps += n->identity().ip;
      details += "EndpointDetails(host:" + n->identity().ip + ", datacenter:" + n->identity().dc +
                 ", rack:" + n->identity().rack + ")";
    }
    out.push_back("TokenRange(start_token:" + std::to_string(range.start) +
                  ", end_token:" + std::to_string(range.end) + ", endpoints:[" + eps +
                  "], rpc_endpoints:[" + eps + "], endpoint_details:[" + details + "])");
  }
  return out;
}

int Rings::other_normal_members(const std::string& pod) const {
  int count = 0;
  if (const Ring* r = ring_of(pod))
    for (const Node* n : token_owners(*r, false))
      if (n->identity().pod != pod && n->mode() == Mode::Normal) ++count;
  return count;
}

std::optional<JavaError> Rings::decommission(Time now, const std::string& pod) {
  Node* n = node(pod);
  if (!n) return JavaError{"java.lang.IllegalStateException", "no such node"};
  return n->decommission(now, other_normal_members(pod));
}

JmxResult<int> Rings::remove_node(Time now, const std::string& pod, const std::string& host_id) {
  Node* self = node(pod);
  Ring* r = ring_of(pod);
  const std::string unsupported = "java.lang.UnsupportedOperationException";
  if (!self || !r) return JavaError{"java.lang.IllegalStateException", "no such node: " + pod};
  if (!self->faults().remove_node_refused.empty())
    return JavaError{unsupported, self->faults().remove_node_refused};
  // StorageService.removeNode of 3.11, in its order of checks (ref §4 "Remove").
  if (host_id.size() != 36 || std::count(host_id.begin(), host_id.end(), '-') != 4)
    return JavaError{"java.lang.IllegalArgumentException", "Invalid UUID string: " + host_id};
  const Node* target = nullptr;
  if (r)
    for (const Node* n : token_owners(*r, true))
      if (n->disk().host_id == host_id) target = n;
  if (!target) return JavaError{unsupported, "Host ID not found."};
  if (target == self) return JavaError{unsupported, "Cannot remove self"};
  if (target->jvm_up())
    return JavaError{unsupported, "Node /" + target->identity().ip +
                                      " is alive and owns this ID. Use decommission command to "
                                      "remove it from the ring"};
  if (!r->removing.empty())
    return JavaError{unsupported,
                     "This node is already processing a removal. Wait for it to complete, or use "
                     "'removenode force' if this has failed."};
  // The hang fault: the removal streams forever, the removed node stays in LeavingNodes and the
  // EXEC never answers.
  const bool hang = self->faults().remove_node_hang;
  int work = self->start_work(now, WorkKind::RemoveNode, target->identity().pod, hang);
  r->removing.emplace_back(target->identity().pod,
                           hang ? Time::max() : now + self->settings().speeds.remove_streaming);
  advance(now);
  return work;
}

JmxResult<int> Rings::rebuild(Time now, const std::string& pod, const std::string& source_dc) {
  Node* self = node(pod);
  const Ring* r = ring_of(pod);
  if (!self || !r) return JavaError{"java.lang.IllegalStateException", "no such node: " + pod};
  bool known = false;
  if (r)
    for (const Node* n : token_owners(*r, false))
      if (n->identity().dc == source_dc) known = true;
  // StorageService.rebuild of 3.11: a source DC without nodes is refused.
  if (!source_dc.empty() && !known)
    return JavaError{"java.lang.IllegalArgumentException",
                     "Provided datacenter '" + source_dc +
                         "' is not a valid datacenter, available "
                         "datacenters are: " +
                         [&] {
                           std::set<std::string> dcs;
                           if (r)
                             for (const Node* n : token_owners(*r, false))
                               dcs.insert(n->identity().dc);
                           std::string s;
                           for (auto& d : dcs) s += (s.empty() ? "" : ",") + d;
                           return s;
                         }()};
  return self->start_work(now, WorkKind::Rebuild, source_dc);
}

std::optional<std::string> Rings::alter_keyspace(const std::string& pod,
                                                 const std::string& keyspace,
                                                 const Replication& replication) {
  Ring* r = ring_of(pod);
  if (!r) return "NoHostAvailable:";
  for (Keyspace& k : r->keyspaces) {
    if (k.name != keyspace) continue;
    // AlterKeyspaceStatement.validate of 3.11.
    if (k.replication.strategy == "LocalStrategy")
      return "InvalidRequest: Error from server: code=2200 [Invalid query] message=\"Cannot "
             "alter system keyspace\"";
    k.replication = replication;
    return std::nullopt;
  }
  return "InvalidRequest: Error from server: code=2200 [Invalid query] message=\"Unknown "
         "keyspace " +
         keyspace + "\"";
}

// ---- nodetool status -----------------------------------------------------------------------
//
// The text layout is Cassandra 3.11's src/java/org/apache/cassandra/tools/nodetool/Status.java
// (execute, getFormat, printNodesHeader, printNode) with NodeTool.getOwnershipByDc:
//  - one section per DC, DCs sorted by name (a TreeMap), header "Datacenter: <dc>" underlined with
//    '=' of its length, the two legend lines, then the column header;
//  - format "%s%s  %-<maxAddr>s  %-9s  [%-11s  ](%-16s|%-6s)  %-36s  [%-39s  ]%s%n";
//    Tokens column when there are more tokens than DCs (vnodes), Token column otherwise;
//  - "Owns (effective)" from StorageService.effectiveOwnership(null): the first user keyspace
//    when all user keyspaces replicate alike, system_traces when there is none; otherwise "Owns"
//    with "?" and the Note line at the end;
//  - nodes of a DC in the order of Guava's ArrayListMultimap keyed by InetAddress, i.e. Java 8
//    HashMap iteration order: bucket ((h ^ h>>>16) & (n-1)) of the IPv4 int h, then insertion
//    (first token) order;
//  - Load as FileUtils.stringifyFileSize ("#.##" KiB/MiB/GiB/TiB), ownership as "##0.0%".
namespace {

std::string file_size(double v) {
  const double kib = 1024, mib = kib * 1024, gib = mib * 1024, tib = gib * 1024;
  const char* unit = " bytes";
  if (v >= tib)
    v /= tib, unit = " TiB";
  else if (v >= gib)
    v /= gib, unit = " GiB";
  else if (v >= mib)
    v /= mib, unit = " MiB";
  else if (v >= kib)
    v /= kib, unit = " KiB";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + unit;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

uint32_t ipv4(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return 0;
  return (a << 24) | (b << 16) | (c << 8) | d;
}

}  // namespace

std::string Rings::nodetool_status(const std::string& pod) const {
  const Ring* r = ring_of(pod);
  if (!r) return "";
  std::vector<const Node*> owners = token_owners(*r, true);
  std::vector<const Node*> normal = token_owners(*r, false);

  // effectiveOwnership(null) of 3.11.
  const Keyspace* owning = nullptr;
  bool same = true;
  for (const Keyspace& k : r->keyspaces) {
    if (k.name.rfind("system", 0) == 0) continue;  // SchemaConstants system names
    if (!owning)
      owning = &k;
    else if (!(k.replication == owning->replication))
      same = false;
  }
  std::string note;
  if (!same) {
    note =
        "Note: Non-system keyspaces don't have the same replication settings, effective "
        "ownership information is meaningless\n";
    owning = nullptr;
  } else if (!owning) {
    for (const Keyspace& k : r->keyspaces)
      if (k.name == "system_traces") owning = &k;
  }
  const bool effective = owning != nullptr;
  std::map<const Node*, float> owns;
  if (effective) {
    const long double full = 18446744073709551615.0L;  // Murmur3: MAXIMUM - (MINIMUM + 1) + 1
    for (const TokenRangeReplicas& range : replicas_by_range(normal, owning->replication)) {
      long double width = (long double)(uint64_t(range.end) - uint64_t(range.start));
      if (range.start == range.end) width = full;
      // describeOwnership divides with 6 decimals (HALF_EVEN) into a float.
      float share = float(std::llround(width / full * 1e6L) / 1e6L);
      for (const Node* n : range.replicas) owns[n] += share;
    }
    for (const Node* n : normal) owns.emplace(n, 0.0f);
  }

  // Tokens sorted, endpoint per token (getTokenToEndpointMap: normal and bootstrapping tokens).
  std::vector<std::pair<int64_t, const Node*>> tokens;
  for (const Node* n : owners)
    for (int64_t t : n->disk().tokens) tokens.emplace_back(t, n);
  std::sort(tokens.begin(), tokens.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::map<std::string, std::vector<const Node*>> by_dc;  // insertion order = first token
  for (auto& [t, n] : tokens) {
    auto& v = by_dc[n->identity().dc];
    if (std::find(v.begin(), v.end(), n) == v.end()) v.push_back(n);
  }
  const bool token_per_node = !(by_dc.size() < tokens.size());
  size_t max_addr = 0;
  for (const Node* n : owners) max_addr = std::max(max_addr, n->identity().ip.size());

  auto row = [&](const std::string& st, const std::string& sa, const std::string& addr,
                 const std::string& load, const std::string& ntokens, const std::string& own,
                 const std::string& host, const std::string& token, const std::string& rack) {
    std::string s = st + sa + "  " + pad(addr, max_addr) + "  " + pad(load, 9) + "  ";
    if (!token_per_node) s += pad(ntokens, 11) + "  ";
    s += pad(own, effective ? 16 : 6) + "  " + pad(host, 36) + "  ";
    if (token_per_node) s += pad(token, 39) + "  ";
    return s + rack + "\n";
  };

  std::vector<std::string> live = live_nodes(pod), down = unreachable_nodes(pod),
                           joining = joining_nodes(pod), leaving = leaving_nodes(pod);
  auto has = [](const std::vector<std::string>& v, const std::string& ip) {
    return std::find(v.begin(), v.end(), ip) != v.end();
  };
  std::ostringstream out;
  for (auto& [dc, nodes] : by_dc) {
    std::string header = "Datacenter: " + dc;
    out << header << "\n" << std::string(header.size(), '=') << "\n";
    out << "Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n";
    out << row("-", "-", "Address", "Load", "Tokens", effective ? "Owns (effective)" : "Owns",
               "Host ID", "Token", "Rack");
    // Java 8 HashMap order of the DC's endpoints.
    size_t table = 16;
    while (nodes.size() > table * 3 / 4) table *= 2;
    std::vector<std::pair<size_t, size_t>> order;  // bucket, insertion index
    for (size_t i = 0; i < nodes.size(); ++i) {
      uint32_t h = ipv4(nodes[i]->identity().ip);
      order.emplace_back((h ^ (h >> 16)) & (table - 1), i);
    }
    std::sort(order.begin(), order.end());
    for (auto& [bucket, i] : order) {
      const Node* n = nodes[i];
      const std::string& ip = n->identity().ip;
      std::string status = has(live, ip) ? "U" : has(down, ip) ? "D" : "?";
      std::string state = has(joining, ip)            ? "J"
                          : has(leaving, ip)          ? "L"
                          : n->mode() == Mode::Moving ? "M"
                                                      : "N";
      std::string own = "?";
      if (effective && owns.count(n)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f%%", double(owns[n]) * 100.0);
        own = buf;
      }
      int64_t first_token = 0;
      for (auto& [t, o] : tokens)
        if (o == n) {
          first_token = t;
          break;
        }
      out << row(status, state, ip, file_size(double(n->disk().load_bytes)),
                 std::to_string(n->disk().tokens.size()), own, n->disk().host_id,
                 std::to_string(first_token), n->identity().rack);
    }
  }
  out << "\n" << note;
  return out.str();
}

}  // namespace kubesim::cassandra
