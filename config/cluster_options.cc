// [apps.NAME] relay, affinity and serialization: what musterd does in place of
// code that Node cluster apps run in their own primary (issues 22 and 23;
// docs/compatibility.md).
#include "config/apps.h"

namespace muster::config::detail {

namespace {

// setupPrimary({serialization}): only a Node channel has one ("json", the
// default, is accepted anywhere, as relay = false is).
void read_serialization(Section& s, AppConfig& app, bool protocol_ok) {
  const toml::node* node = s.find("serialization");
  if (!s.read_choice("serialization", app.serialization,
                     {Serialization::json, Serialization::advanced}) ||
      !node || !protocol_ok || app.protocol == Protocol::node ||
      app.serialization == Serialization::json) {
    return;
  }
  s.error(
      *node, "serialization",
      std::string(R"(serialization "advanced" is the Node IPC channel's: needs protocol "node", )"
                  R"(but protocol is ")") +
          to_string(app.protocol) + "\"");
}

}  // namespace

void read_cluster_options(Section& s, AppConfig& app, bool protocol_ok) {
  read_serialization(s, app, protocol_ok);
  s.read_bool("relay", app.relay);
  const toml::node* relay = s.find("relay");
  if (relay && app.relay && protocol_ok && app.protocol != Protocol::node) {
    s.error(*relay, "relay",
            std::string(R"(relays messages between Node workers: needs protocol "node", but )"
                        R"(protocol is ")") +
                to_string(app.protocol) + "\"");
  }
  const toml::node* affinity = s.find("affinity");
  if (!s.read_choice("affinity", app.affinity, {Affinity::none, Affinity::client_ip}) ||
      !affinity || app.affinity == Affinity::none) {
    return;
  }
  // Only musterd's own accept loop (rr) chooses the worker of a connection.
  if (protocol_ok && app.protocol != Protocol::node) {
    s.error(*affinity, "affinity",
            std::string(R"(affinity "client-ip" needs protocol "node" and scheduling "rr", )"
                        R"(but protocol is ")") +
                to_string(app.protocol) + "\"");
  } else if (app.scheduling != Scheduling::rr) {
    s.error(*affinity, "affinity",
            std::string(R"(affinity "client-ip" needs scheduling "rr" (the kernel or the )"
                        R"(workers pick the worker otherwise), but scheduling is ")") +
                to_string(app.scheduling) + "\"");
  }
}

}  // namespace muster::config::detail
