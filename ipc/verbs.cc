#include "ipc/verbs.h"

namespace muster::ipc {

constexpr Need kOptional = Need::optional, kRequired = Need::required;

const std::array<Verb, 18> kVerbs{{
    {.name = "ping", .help = "Check that musterd is running and answering."},
    {.name = "version", .help = "Print the versions of musterctl and of the running musterd."},
    {.name = "status",
     .app = kOptional,
     .help = "Show apps (state, ready/total, instances, restarts) and their workers: id, "
             "instance, pid, state, uptime, restarts, connections handed, CPU % and RSS "
             "(sampled every 2 s). States are coloured on a terminal (--no-color, NO_COLOR)."},
    {.name = "describe",
     .app = kRequired,
     .show_env = kOptional,
     .help = "Show everything about one app: each effective setting and where it came from "
             "(FILE:LINE, an environment overlay, or the default), the program the next worker "
             "runs, its environment (values of names that look secret, such as *TOKEN*, "
             "*PASSWORD*, *KEY*, masked unless --show-env), its sockets, restart policy state, "
             "counters, the last exits of each slot and where its output goes."},
    {.name = "start",
     .app = kRequired,
     .wait = kOptional,
     .slow = true,
     .help = "Start an app's workers (clearing a crash loop or `failed` state); returns once "
             "every slot has a ready worker, and fails (exit 1, with the reason) if a worker "
             "exits before it is ready. An app with `after` waits for those apps' ready "
             "workers (refused while one is stopped); `start all` starts autostart = false "
             "apps too."},
    {.name = "stop",
     .app = kRequired,
     .slow = true,
     .help = "Gracefully disconnect all of an app's workers (its sockets stay open); returns "
             "once every worker has exited."},
    {.name = "restart",
     .app = kOptional,
     .id = kOptional,
     .wait = kOptional,
     .app_or_id = true,
     .slow = true,
     .help = "Stop an app, then start it again; returns once every slot has a ready worker "
             "(exit 1 with the reason if one exits before it is ready). With a worker ID: "
             "replace that one worker gracefully (a new worker first, as in a reload); returns "
             "once the new one is ready, fails (exit 1) if it cannot get ready, leaving the old "
             "one serving."},
    {.name = "reload",
     .app = kRequired,
     .wait = kOptional,
     .slow = true,
     .help = "Rolling, zero-downtime replacement of every worker of an app: per slot a new "
             "worker starts and the old one leaves once the new one is ready. Returns when "
             "done; fails (exit 1) if a new worker cannot get ready, leaving the old ones "
             "serving."},
    {.name = "reload-config",
     .allow_empty = kOptional,
     .slow = true,
     .help = "Re-read musterd's config file and apply the difference (same as SIGHUP): new "
             "apps start, removed apps stop, apps whose worker settings changed are reloaded "
             "rolling, policy changes apply in place. A file with errors changes nothing; every "
             "error is printed. An empty file, and a file with no apps while musterd has some, "
             "are refused (exit 1, nothing changed): a config caught mid-write looks like that, "
             "so edit a temporary file and rename it over the config. Returns once the rolling "
             "reloads and new apps' starts are over; if one fails (exit 1, with the reason), "
             "that app keeps its previous settings."},
    {.name = "logs",
     .app = kRequired,
     .count = kOptional,
     .follow = kOptional,
     .help = "Show an app's recent worker output (from musterd's in-memory tail), each line "
             "with the worker that wrote it; --follow keeps printing new lines."},
    {.name = "scale",
     .app = kRequired,
     .count = kRequired,
     .help = "Change the number of an app's instances at runtime only: the config file is "
             "not changed, so a musterd restart goes back to its count."},
    {.name = "reset",
     .app = kRequired,
     .help = "Zero an app's restart counts, crash-loop history and backoff, as if none of its "
             "workers had crashed; starts and stops nothing (a crash-looping slot or a failed "
             "app still waits for start)."},
    {.name = "kill",
     .id = kRequired,
     .signal = kOptional,
     .help = "Send a signal to one worker, by id (Node's worker.kill()). Its exit is "
             "voluntary (refilled at once, no crash counted) if it died of a signal sent so, "
             "or exited within stop_timeout of a SIGTERM, SIGINT, SIGQUIT or stop_signal sent "
             "so; any other exit is a crash."},
    {.name = "disconnect",
     .id = kRequired,
     .help = "Gracefully disconnect one worker, by id (Node's worker.disconnect()): it closes "
             "its servers and leaves, killed after stop_timeout; returns at once."},
    {.name = "send",
     .app = kOptional,
     .id = kOptional,
     .message = kRequired,
     .app_or_id = true,
     .help = "Send a JSON message to one worker or to all of an app's workers (Node's "
             "worker.send()); only node-protocol workers receive it."},
    {.name = "events",
     .follow = kOptional,
     .help = "Show recent cluster events (up to 1000, oldest first): fork, online, listening, "
             "disconnect, exit, message, restart, crash_loop, failed, retry, waiting, "
             "ready_timeout, watchdog, reload, setup, memory, output, relay_dropped, watch, "
             "upgrading, upgraded, upgrade_failed."},
    {.name = "upgrade",
     .binary = kOptional,
     .slow = true,
     .help = "Upgrade musterd in place (as SIGUSR2 does with the default binary): the binary at "
             "--binary PATH, by default the path musterd was started from, takes over every "
             "worker, socket and connection under the same pid; no worker restarts. Returns once "
             "the new musterd has taken over, printing both versions. Refused (exit 1, nothing "
             "changed) if the binary does not run or cannot read musterd's state, or if "
             "something stays busy for 10 s; if the new binary cannot take over, the old one "
             "resumes (exit 1, with the reason). Only root and musterd's own user may upgrade "
             "it."},
    {.name = "shutdown", .help = "Shut musterd down gracefully, as on SIGTERM."},
}};

const Verb* find_verb(std::string_view name) {
  for (const Verb& verb : kVerbs)
    if (verb.name == name) return &verb;
  return nullptr;
}

}  // namespace muster::ipc
