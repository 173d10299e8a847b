#include "cli/import_supervisord_keys.h"

#include <array>

namespace muster::cli::supervisord {
namespace {

constexpr std::array kProgramKeys = {
    KeyMapping{"command", "exec, args",
               "split as supervisord splits it (Python's shlex.split), never run through a "
               "shell, except one with shell syntax (>, &&, $VAR), which runs through sh -c with a "
               "comment saying supervisord passed it as words"},
    KeyMapping{"process_name", "[apps.NAME]",
               "the name of each process; with numprocs > 1 one app per process when the "
               "processes differ, else one app named after the program"},
    KeyMapping{"numprocs", "instances",
               "when the processes differ only in their names; otherwise one app per process "
               "(muster's instances share one command)"},
    KeyMapping{"numprocs_start", "", "only changes the %(process_num)d values, expanded at import"},
    KeyMapping{"priority", "after",
               "a program starts after the programs of the next lower priority; muster waits "
               "until they are ready where supervisord only orders the starts"},
    KeyMapping{"autostart", "autostart", "the same"},
    KeyMapping{"startsecs", "min_uptime",
               "a worker up this long resets its restart backoff; muster has no starting state, "
               "a worker of protocol none is ready when spawned"},
    KeyMapping{"startretries", "max_restarts",
               "supervisord gives up (FATAL) after this many failed starts in a row; muster "
               "after this many restarts within restart_window, and retries after failed_retry"},
    KeyMapping{"autorestart", "restart",
               "true: always; false: never; unexpected: on-failure (any exit but 0)"},
    KeyMapping{"exitcodes", "",
               "muster expects exit code 0 only: with restart = on-failure other codes restart"},
    KeyMapping{"stopsignal", "stop_signal", "the same (TERM becomes \"SIGTERM\")"},
    KeyMapping{"stopwaitsecs", "stop_timeout", "the same, in seconds"},
    KeyMapping{"stopasgroup", "", "muster always signals the worker's whole process group"},
    KeyMapping{"killasgroup", "", "muster always kills the worker's whole process group"},
    KeyMapping{"user", "user", "the same; musterd must run as root"},
    KeyMapping{"redirect_stderr", "output",
               "muster always writes stdout and stderr to the one destination of output"},
    KeyMapping{"stdout_logfile", "output, output_file",
               "a file: output = \"file\"; AUTO: musterd's log (musterctl logs); NONE: output = "
               "\"null\" when stderr goes nowhere either; /dev/stdout: output = \"inherit\""},
    KeyMapping{"stdout_logfile_maxbytes", "output_max_size",
               "the same; 0 (never rotate) has no equivalent: muster always rotates"},
    KeyMapping{"stdout_logfile_backups", "output_keep", "the same"},
    KeyMapping{"stdout_capture_maxbytes", "",
               "no capture mode: event listeners have no equivalent (musterctl events)"},
    KeyMapping{"stdout_events_enabled", "",
               "no event listeners: musterctl events --follow streams musterd's events"},
    KeyMapping{"stdout_syslog", "", "output = \"journal\" sends each line to the systemd journal"},
    KeyMapping{"stderr_logfile", "output_file",
               "used when stdout has no file; stderr shares stdout's destination otherwise"},
    KeyMapping{"stderr_logfile_maxbytes", "output_max_size", "when stderr's file is the one used"},
    KeyMapping{"stderr_logfile_backups", "output_keep", "when stderr's file is the one used"},
    KeyMapping{"stderr_capture_maxbytes", "",
               "no capture mode: event listeners have no equivalent (musterctl events)"},
    KeyMapping{"stderr_events_enabled", "",
               "no event listeners: musterctl events --follow streams musterd's events"},
    KeyMapping{"stderr_syslog", "", "output = \"journal\" sends each line to the systemd journal"},
    KeyMapping{"environment", "env",
               "the same pairs, with [supervisord] environment= under them; muster's workers "
               "do not inherit musterd's environment (env_inherit)"},
    KeyMapping{"directory", "cwd", "the same"},
    KeyMapping{"umask", "", "workers get musterd's umask"},
    KeyMapping{"serverurl", "", "no XML-RPC server: musterctl talks to musterd's control socket"},
};

constexpr std::array kSections = {
    KeyMapping{"supervisord", "[daemon]",
               "musterd runs in the foreground and logs to stderr (the journal under systemd); "
               "environment= goes into every app's env"},
    KeyMapping{"unix_http_server", "control_socket",
               "musterctl talks to musterd's control socket (control_mode, control_group)"},
    KeyMapping{"inet_http_server", "", "no HTTP control server; metrics_listen serves /metrics"},
    KeyMapping{"supervisorctl", "", "musterctl finds the socket itself (-s, $MUSTER_SOCKET)"},
    KeyMapping{"rpcinterface", "", "no XML-RPC: the control protocol is JSON lines"},
    KeyMapping{"ctlplugin", "", "no supervisorctl plugins"},
    KeyMapping{"eventlistener", "", "no event listeners: musterctl events --follow"},
    KeyMapping{"fcgi-program", "",
               "no FastCGI: a [sockets.NAME] with protocol = \"systemd\" passes sockets as "
               "fd 3 and up, not fd 0"},
};

constexpr std::array kCommands = {
    CommandMapping{"supervisorctl status", "musterctl status", ""},
    CommandMapping{"supervisorctl status NAME", "musterctl status APP", ""},
    CommandMapping{"supervisorctl start NAME", "musterctl start APP",
                   "waits until every worker is ready"},
    CommandMapping{"supervisorctl start GROUP:*", "musterctl start GROUP",
                   "GROUP: a name of [groups]"},
    CommandMapping{"supervisorctl start all", "musterctl start all", ""},
    CommandMapping{"supervisorctl stop NAME", "musterctl stop APP", ""},
    CommandMapping{"supervisorctl stop all", "musterctl stop all", ""},
    CommandMapping{"supervisorctl restart NAME", "musterctl restart APP",
                   "musterctl reload APP replaces the workers one by one instead"},
    CommandMapping{"supervisorctl signal SIG NAME", "musterctl kill ID --signal SIG",
                   "one worker by its id (musterctl status lists them)"},
    CommandMapping{"supervisorctl tail NAME", "musterctl logs APP", "stdout and stderr together"},
    CommandMapping{"supervisorctl tail -f NAME", "musterctl logs APP --follow", ""},
    CommandMapping{"supervisorctl maintail", "journalctl -u musterd",
                   "musterd logs to stderr; under systemd that is its journal"},
    CommandMapping{"supervisorctl reread", "musterctl check",
                   "validates the config file without applying it"},
    CommandMapping{"supervisorctl update", "musterctl reload-config",
                   "applies the difference; changed apps are reloaded without downtime"},
    CommandMapping{"supervisorctl reload", "systemctl restart musterd",
                   "musterctl reload-config applies a changed config without a restart"},
    CommandMapping{"supervisorctl shutdown", "musterctl shutdown", ""},
    CommandMapping{"supervisorctl pid", "musterctl status",
                   "musterd's pid: systemctl show -p MainPID musterd"},
    CommandMapping{"supervisorctl pid NAME", "musterctl status APP", "the pid of each worker"},
    CommandMapping{"supervisorctl clear NAME", "", "musterd's log and output files rotate"},
    CommandMapping{"supervisorctl fg NAME", "",
                   "workers have no terminal; musterctl logs --follow"},
    CommandMapping{"supervisorctl add NAME", "musterctl reload-config", "after adding the app"},
    CommandMapping{"supervisorctl remove NAME", "musterctl reload-config",
                   "after removing the app"},
    CommandMapping{"supervisorctl avail", "musterctl status", "every app of the config"},
    CommandMapping{"supervisorctl version", "musterctl version", ""},
};

template <class Table>
const KeyMapping* find_in(const Table& table, std::string_view key) {
  for (const KeyMapping& m : table)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace

std::span<const KeyMapping> program_keys() { return kProgramKeys; }
const KeyMapping* find_program_key(std::string_view key) { return find_in(kProgramKeys, key); }
std::span<const KeyMapping> other_sections() { return kSections; }

const KeyMapping* find_section(std::string_view name) {
  return find_in(kSections, name.substr(0, name.find(':')));
}

std::span<const CommandMapping> commands() { return kCommands; }

}  // namespace muster::cli::supervisord
