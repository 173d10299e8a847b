// One worker process, from spawn to reaping. A Worker object is one life: a
// replacement is a new Worker with a new id, so a timer or read completion from
// an earlier life can never act on a later one. Every state transition is
// decided by the table in worker_decide.cc; Worker::on() carries it out.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "daemon/common/proc_stats.h"
#include "daemon/launch/spawn.h"
#include "daemon/network/rr_member.h"
#include "daemon/supervision/restart_policy.h"
#include "daemon/supervision/worker_decide.h"
#include "ipc/node_channel.h"
#include "ipc/notify_message.h"

namespace muster::daemon {

struct WorkerIdentity {
  std::string app;
  unsigned id = 0;        // MUSTER_WORKER_ID, never reused
  unsigned instance = 0;  // slot, kept by replacements
  unsigned restarts = 0;  // how often this slot was refilled after a crash
};

struct ExitInfo {
  std::optional<int> code;    // exit status, if it exited
  std::optional<int> signal;  // terminating signal, if killed
  bool voluntary = false;     // asked to go (daemon, operator) or left on its own
  // Node's worker.exitedAfterDisconnect, as the primary computes it: the
  // primary disconnected it, or the worker's own disconnect finished.
  bool after_disconnect = false;
  Duration uptime{0};
  std::string spawn_error;  // non-empty: it never started

  bool forced = false;  // killed by the daemon for misbehaving (a crash)
  std::string reason;   // why the daemon killed it, when it did

  bool clean() const { return code && *code == 0 && !forced; }
  std::string describe() const;  // "exited with code 1", "killed by SIGKILL"
};

class EventBus;
class Launcher;
class ListenSocket;
class OnDemandSockets;
class OutputPipe;
class OutputSink;
class RrHandle;
class SocketTable;
class Worker;
struct WorkerRecord;

// What a worker needs of the daemon around it.
struct WorkerContext {
  Launcher& launcher;  // where its processes start, end and get signals
  SocketTable& sockets;
  OnDemandSockets& on_demand;
  EventBus& events;
  std::string notify_address;  // NOTIFY_SOCKET for systemd-protocol workers
  const std::vector<config::SocketConfig>* socket_configs = nullptr;
  // A worker's user message (process.send), for its app's Relay.
  std::function<void(Worker&, const boost::json::value&)> user_message;
  // Where a worker's RSS and CPU are read (status, /metrics, max_memory):
  // /proc in musterd; unit tests give their own figures.
  std::function<std::optional<ProcUsage>(pid_t)> read_usage = read_proc_usage;
  // Its process has started and its pid is known (after the `spawned`
  // event): musterd hands it the notify datagrams it sent before that
  // (daemon/network/early_notify.h).
  std::function<void(Worker&)> spawned;
  // A worker became ready, or an app was stopped, stopped completely or
  // failed: apps waiting for others (daemon/supervision/start_order.h) are
  // looked at again. musterd posts the look; unit tests may leave it empty.
  std::function<void()> start_order_changed;
};

class Worker final : public std::enable_shared_from_this<Worker>, public RrMember {
 public:
  using ExitHandler = std::function<void(Worker&, const ExitInfo&)>;

  Worker(boost::asio::io_context& io, WorkerContext& context, const config::AppConfig& app,
         WorkerIdentity identity, std::shared_ptr<OutputSink> output, ExitHandler on_exit);
  ~Worker();

  // Spawns the process. A failure is reported through the exit handler (posted,
  // never re-entrant) with ExitInfo::spawn_error set. Throws only when out of
  // memory: the caller then kills and drops the worker (App::cannot_spawn).
  void start();
  // Graceful stop as Node's worker.kill() (lib/internal/cluster/primary.js,
  // Worker.prototype.destroy): with a channel, disconnect, then stop_signal
  // to the process group once the channel has closed (so a worker whose
  // loop stays alive runs its SIGTERM handler); without one, stop_signal at
  // once. SIGKILL after stop_timeout. Idempotent.
  void stop();
  // Node's worker.disconnect(): the worker closes its servers and leaves;
  // killed after stop_timeout. Without a channel it is stop(). Voluntary.
  void disconnect();
  // Operator's kill: `signo` to the worker's pid. The exit it causes is
  // voluntary; whether it caused the exit is decided then (OperatorSignals).
  bool send_signal(int signo);
  // SIGKILL to the whole process group now (shutdown deadline).
  void kill_now();
  // inspect: SIGUSR1, on which Node opens its inspector (a no-op when it is
  // open), for a worker started while its slot's previous worker held the
  // port (a rolling reload). Only when the executable is Node itself: a
  // wrapper script would die of the signal.
  void open_inspector();

  // A user message (Node's worker.send); false without an open channel.
  bool send_message(const boost::json::value& message);
  // relay = true: another worker's message, serialised (daemon/supervision/relay.h):
  // `v8_payload` as it came, when both channels are 'advanced', else `line`.
  // Not sent if the channel has more than `max_backlog` bytes unsent.
  enum class Relayed { sent, backlog, closed };
  Relayed send_relayed(const std::string& line, const std::string& v8_payload,
                       std::size_t max_backlog);
  // serialization = "advanced": the channel carries V8 values.
  bool advanced_channel() const {
    return channel_ && channel_->serialization() == ipc::Serialization::advanced;
  }
  // Inside a message handler: the V8 payload of the message (empty in json mode).
  const std::string& channel_payload() const;
  // Round-robin: hands connection `fd` over as a newconn (see RrHandle).
  bool send_newconn(const std::string& prefix, int fd, std::weak_ptr<RrHandle> handle) override;

  // A datagram from this worker on the notify socket (systemd protocol).
  void on_notify(const ipc::NotifyMessage& message);
  // Ready per the app's `ready` (spawn, online, listening, READY=1, or for
  // "auto" listening or a quiet while online without asking for a server).
  bool ready() const { return life_.ready; }
  // Stopped by a signal (SIGSTOP, SIGTSTP) or a debugger as of the last usage
  // sample: it runs nothing until SIGCONT, whatever ready() says.
  bool stopped() const { return usage_.stopped(); }
  // What /readyz, `status` and muster_workers_ready count as ready.
  bool ready_now() const { return life_.ready && !stopped(); }
  // Runs once (posted) when the worker becomes ready.
  void on_ready(std::function<void()> callback) { on_ready_ = std::move(callback); }
  // ready = "auto" for a worker that replaces listening ones (a reload, a
  // refill next to listening workers, an app with declared sockets): it must
  // listen to be ready, as with ready = "listening"; no quiet rule. Set before
  // start(): a fact the decisions read (WorkerFacts::must_listen).
  void expect_listening() { must_listen_ = true; }
  const std::string& status_text() const { return status_text_; }
  // inspect: the address its Node inspector was given ("" if none).
  const std::string& inspector() const { return inspector_; }

  const WorkerIdentity& identity() const { return identity_; }
  // musterctl reset (App::reset_history): its slot's restart count is zero again.
  void reset_restarts() { identity_.restarts = 0; }
  std::uint64_t connections() const { return connections_; }
  bool has_channel() const { return channel_ && channel_->is_open(); }
  WorkerState state() const { return life_.state; }
  int pid() const { return pid_; }
  Duration uptime() const;
  // RSS and CPU as last read from /proc: when ready (unless its spawn made
  // it ready: see become_ready), and then every
  // App::kUsageInterval (App::watch_usage); status and /metrics show this.
  // A worker with no figure yet (none taken, or taken before it had run:
  // the kernel counts the first pages lazily) is read on the spot.
  const ProcUsage& usage() const;
  void sample_usage() const;
  // Its CPU use (100 = one core) between the two last samples at least
  // kCpuWindow apart; nullopt until there are two.
  std::optional<double> cpu_percent() const { return cpu_percent_; }
  static constexpr Duration kCpuWindow = std::chrono::seconds(1);

  // Upgrade in place (worker_handover.cc; what is refused and why:
  // daemon/supervision/handover_records.h). Why this worker cannot be
  // handed over now ("web[3] is not ready yet"), or nullopt.
  std::optional<std::string> busy_for_handover() const;
  // This life written down; only meaningful when busy_for_handover() says nothing.
  WorkerRecord record() const;
  // The exec itself: record() with its channel and pipes handed over (their
  // objects go inert; nothing of this Worker reads them again). The fds
  // move to `keep` and their numbers and unread bytes into the record. The
  // error (a channel that is not quiet) leaves the channel as it was.
  Result<WorkerRecord> hand_over(std::vector<ipc::UniqueFd>& keep);
  // What the new musterd rebuilt for an adopted worker from the fds that
  // crossed the exec.
  struct Adopted {
    std::shared_ptr<ipc::NodeChannel> channel;  // not started yet; null: none
    std::shared_ptr<OutputPipe> out, err;       // not started yet; null: none
    // The listening socket of a round-robin registration, by its
    // [sockets.NAME] (WorkerRecord::server_sockets), or null.
    std::function<ListenSocket*(const std::string& name)> find_socket;
  };
  // Makes this Worker, constructed but never started, the life `record`
  // describes, without spawning: its process, channel and pipes go on. The
  // identity is the record's. The error if its process is gone or the record
  // is not of a stable worker; then nothing was taken over.
  Result<void> adopt(const WorkerRecord& record, Adopted adopted);

 private:
  using Event = WorkerEvent;
  Result<void> launch();
  void start_stop_timer();
  void arm_stop_timer(Clock::time_point deadline);
  void arm_ready_timer(Clock::time_point deadline);
  void arm_quiet_timer();
  void arm_drain_timer();
  void arm_watchdog();
  // worker_own_listen.cc: a worker listening on a socket of its own.
  void probe_own_listen();
  void arm_own_listen_probe(Duration delay);
  // worker_actions.cc: decide (worker_decide.h), then carry out each action.
  void on(Event event);
  void on(Event event, const WorkerFacts& facts);
  WorkerFacts facts() const;
  void carry_out(WorkerAction action, Event event, const WorkerDecision& decision,
                 const WorkerFacts& facts);
  void kill_for(WorkerAction action, const char* why);
  boost::json::object who() const;
  void announce_spawn();
  void start_channel();
  void become_ready(Event event);
  void disconnect_channel();
  void close_channel();
  void report_exit();
  Result<void> prepare_channel(SpawnSpec& spec);
  // worker_systemd.cc: the systemd protocol (sockets at spawn, notify datagrams).
  Result<void> prepare_sockets(SpawnSpec& spec);
  bool give_mode(ListenSocket& socket);
  void extend_timeout(std::chrono::microseconds by);
  void refuse_once(bool& refused, const char* what, const char* why);
  // worker_cluster.cc: Node's cluster conversation on the channel.
  void on_channel_message(boost::json::value message, ipc::UniqueFd fd);
  void on_channel_closed(const std::string& error);
  void on_cluster_message(const boost::json::object& message);
  // A queryServer: answered from a declared socket, or one bound on demand
  // (maybe later: a unix path is bound in a child), or refused.
  struct ServerQuery;
  void query_server(const boost::json::object& message);
  bool answer_server(const ServerQuery& query, ListenSocket& socket);
  // Round-robin: connections of `socket` come to this worker from now on.
  void join_round_robin(ListenSocket& socket, const std::string& key);
  void refuse_server(const ServerQuery& query, int err);
  void close_server(const std::string& key);
  void leave_sockets();
  std::uint64_t send_cluster(boost::json::object message, int fd = -1);
  void kill_group(int signo);
  void wait_for_exit();
  // worker_output.cc: stdout and stderr.
  Result<void> open_output(SpawnSpec& spec);
  void read_output();

  boost::asio::io_context& io_;
  WorkerContext& context_;
  const config::AppConfig app_;  // a copy: a config reload must not change a running life
  WorkerIdentity identity_;
  std::shared_ptr<OutputSink> sink_;  // shared: output may outlive the app
  ExitHandler on_exit_;
  WorkerLife life_;  // written only from decide()'s result
  int pid_ = 0;
  Clock::time_point started_{};
  ExitInfo exit_;
  mutable ProcUsage usage_;  // a sample, refreshed by const readers if empty
  // cpu_percent(): the sample it is measured from, and the result.
  mutable std::optional<std::pair<Clock::time_point, double>> cpu_base_;
  mutable std::optional<double> cpu_percent_;
  Timer stop_timer_;
  // Until spawned: the pipes from its stdout (with stderr, but for output =
  // "journal") and stderr; they read on their own afterwards.
  std::shared_ptr<OutputPipe> stdout_pipe_, stderr_pipe_;
  // Node protocol.
  ipc::UniqueFd child_channel_end_;  // until spawned
  std::shared_ptr<ipc::NodeChannel> channel_;
  std::uint64_t seq_ = 0;  // our NODE_CLUSTER messages
  // Handles are held weakly: a retired socket's handle is freed once no
  // worker is registered with it, and an answer may come after that.
  struct Newconn {
    std::weak_ptr<RrHandle> handle;
    int fd;  // lent to the channel; the handle's RoundRobin owns it until the reply
  };
  std::unordered_map<std::uint64_t, Newconn> newconns_;  // seq -> awaiting its reply
  // rr registrations (handle, key)
  std::vector<std::pair<std::weak_ptr<RrHandle>, std::string>> servers_;
  // The worker's credentials (nullopt: musterd's own), for binds on its behalf.
  std::optional<Credentials> credentials_;
  unsigned queries_in_flight_ = 0;  // queryServers waiting for an on-demand bind
  std::uint64_t connections_ = 0;
  // Connections handed to us but unanswered when we left a socket: the channel
  // may still be sending them, so they are closed only with the channel.
  std::vector<ipc::UniqueFd> parked_;
  // Node protocol: keys of the servers it was given and has not closed; a
  // worker whose last one closes may be draining its own disconnect. At most
  // kMaxServers (with the queries in flight): more are refused with EMFILE,
  // so a worker cannot grow musterd's memory by listening again and again.
  static constexpr std::size_t kMaxServers = 4096;
  std::vector<std::string> server_keys_;
  bool must_listen_ = false;  // see expect_listening()
  Timer drain_timer_;
  Timer quiet_timer_;
  // Readiness and the systemd protocol.
  std::function<void()> on_ready_;
  std::string status_text_;
  std::string inspector_;             // see inspector()
  bool inspector_signal_ok_ = false;  // see open_inspector()
  std::uint16_t inspector_port_ = 0;  // its port: no server of the app's
  bool reloading_ = false;            // RELOADING=1 seen, READY=1 not yet
  bool refused_fdstore_ = false;      // warned once about FDSTORE=1
  bool refused_main_pid_ = false;     // warned once about MAINPID=
  Timer ready_timer_;
  Timer watchdog_timer_;
  Timer probe_timer_;  // probe_own_listen()
};

}  // namespace muster::daemon
