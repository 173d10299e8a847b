// OnDemandSockets across an in-place upgrade (issue 25): the old musterd
// hands each socket over with its settings, fd, users and (for a unix
// socket) its file; the new one takes them over before it adopts the
// workers that use them.
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "daemon/network/on_demand.h"
#include "daemon/network/on_demand_entry.h"
#include "daemon/network/socket_config_json.h"
#include "ipc/json_number.h"

namespace muster::daemon {

std::optional<std::string> OnDemandSockets::busy_for_handover() const {
  for (const auto& [key, e] : entries_) {
    if (!e->socket) return key.first + ": a socket is being bound on demand";
  }
  return std::nullopt;
}

boost::json::array OnDemandSockets::hand_over() const {
  boost::json::array out;
  for (const auto& [key, e] : entries_) {
    boost::json::array users;
    for (unsigned id : e->users) users.push_back(id);
    boost::json::object o{{"app", key.first},
                          {"key", key.second},
                          {"socket", socket_config_to_json(e->socket->config())},
                          {"fd", e->socket->fd()},
                          {"users", std::move(users)}};
    // A unix socket's file goes with its directory's fd: the new musterd
    // removes it at close, as this one would have (SocketFile::adopt).
    if (const SocketFile* file = e->socket->file())
      o["file"] = {{"dir_fd", file->dir_fd()},
                   {"path", file->path()},
                   {"dev", static_cast<std::uint64_t>(file->id().dev)},
                   {"ino", static_cast<std::uint64_t>(file->id().ino)}};
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

// The file of a unix socket taken over, or none (then it stays at close, and
// the log says so).
std::optional<SocketFile> adopt_file(const boost::json::value* v) {
  const boost::json::object* o = v ? v->if_object() : nullptr;
  if (!o) return std::nullopt;
  auto dir = ipc::json_number<int>(o->if_contains("dir_fd"));
  auto dev = ipc::json_number<std::uint64_t>(o->if_contains("dev"));
  auto ino = ipc::json_number<std::uint64_t>(o->if_contains("ino"));
  const boost::json::value* path = o->if_contains("path");
  if (!dir || !dev || !ino || !path || !path->is_string()) return std::nullopt;
  auto file = SocketFile::adopt(ipc::UniqueFd(*dir), std::string(path->as_string()),
                                static_cast<dev_t>(*dev), static_cast<ino_t>(*ino));
  if (file) return std::move(file).value();
  spdlog::warn("{}: {}; the socket goes on, its file stays when it closes",
               std::string(path->as_string()), file.error().message);
  return std::nullopt;
}

}  // namespace

Result<void> OnDemandSockets::adopt(const boost::json::array& carried) {
  for (const auto& v : carried) {
    const boost::json::object* o = v.if_object();
    const boost::json::value *app = o ? o->if_contains("app") : nullptr,
                             *key = o ? o->if_contains("key") : nullptr,
                             *users = o ? o->if_contains("users") : nullptr;
    auto fd = ipc::json_number<int>(o ? o->if_contains("fd") : nullptr);
    if (!app || !app->is_string() || !key || !key->is_string() || !fd || !users ||
        !users->is_array() || !o->contains("socket"))
      return Error{"an on-demand socket's record lacks app, key, socket, fd or users"};
    auto config = socket_config_from_json(o->at("socket"));
    if (!config) return config.error();
    auto entry = std::make_unique<Entry>(io_);
    BoundSocket bound{ipc::UniqueFd(*fd), adopt_file(o->if_contains("file"))};
    entry->socket =
        std::make_unique<ListenSocket>(std::move(config).value(), std::move(bound), true);
    for (const auto& id : users->as_array())
      if (auto worker = ipc::json_number<unsigned>(&id)) entry->users.insert(*worker);
    Key k{std::string(app->as_string()), std::string(key->as_string())};
    auto [it, added] = entries_.emplace(k, std::move(entry));
    if (added && it->second->users.empty()) arm_grace(it->first, *it->second);
  }
  return {};
}

ListenSocket* OnDemandSockets::find(const std::string& app, const std::string& name) const {
  for (auto it = entries_.lower_bound({app, ""}); it != entries_.end() && it->first.first == app;
       ++it)
    if (it->second->socket && it->second->socket->config().name == name)
      return it->second->socket.get();
  return nullptr;
}

}  // namespace muster::daemon
