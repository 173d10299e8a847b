// Runs `node -e LOADER FILE` with Boost.Process v2: stdout and stderr on
// pipes read on one io_context, the child killed when it takes longer than
// kTimeout or writes more than kMaxOutput. The loader require()s the file as
// PM2 does (lib/Common.js parseConfig), or import()s an ES module (.mjs, or a
// .js in a "type": "module" package on a node whose require() refuses it).
#include "cli/import_pm2_node.h"

// Boost.Process v2 on std::filesystem, so that it stays header-only without
// Boost.Filesystem. Boost 1.81's headers then miss declarations that
// Boost.Filesystem's would have brought along (boost::optional,
// boost::is_constructible, boost::remove_pointer): these includes give them.
#define BOOST_PROCESS_USE_STD_FS 1
#include <boost/asio.hpp>
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
// (kept after the two above)
#include <boost/process/v2.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

namespace muster::cli::pm2 {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

constexpr auto kTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxOutput = 16 << 20;

constexpr const char* kLoader = R"js(
const path = require('node:path');
const url = require('node:url');
const file = path.resolve(process.argv[1]);
const print = (v) => {
  if (v && typeof v === 'object' && !Array.isArray(v) && !v.apps && v.default) v = v.default;
  process.stdout.write(JSON.stringify(v === undefined ? null : v));
};
const fail = (e) => { console.error((e && e.stack) || String(e)); process.exit(1); };
const load = () => import(url.pathToFileURL(file).href).then((m) => print(m.default), fail);
if (file.endsWith('.mjs')) load();
else {
  try { print(require(file)); }
  catch (e) { if (e && e.code === 'ERR_REQUIRE_ESM') load(); else fail(e); }
}
)js";

// What one run of node has going: its pipes, and what they brought.
struct Run {
  Run(bp::process& c, asio::steady_timer& t) : child(c), timer(t) {}

  bp::process& child;
  asio::steady_timer& timer;
  std::string out, err;
  int open_pipes = 2;
  bool exited = false, too_big = false, timed_out = false;

  // All of it is over: nothing left to wait for.
  void maybe_done() {
    if (open_pipes == 0 && exited) timer.cancel();
  }
};

// Reads a pipe to its end into `into`, stopping (and killing) at kMaxOutput.
void drain(asio::readable_pipe& pipe, std::string& into, Run& run) {
  auto chunk = std::make_shared<std::array<char, 8192>>();
  pipe.async_read_some(asio::buffer(*chunk),
                       [&, chunk](boost::system::error_code ec, std::size_t n) {
                         if (ec) {
                           --run.open_pipes;
                           return run.maybe_done();
                         }
                         if (!run.too_big) into.append(chunk->data(), n);
                         if (into.size() > kMaxOutput && !run.too_big) {
                           run.too_big = true;
                           boost::system::error_code ignored;
                           run.child.terminate(ignored);
                         }
                         drain(pipe, into, run);
                       });
}

std::string last_lines(const std::string& text) {
  constexpr std::size_t kKeep = 2000;
  return text.size() <= kKeep ? text : "..." + text.substr(text.size() - kKeep);
}

}  // namespace

NodeResult evaluate_with_node(const std::string& path) {
  NodeResult result;
  const auto node = bp::environment::find_executable("node");
  if (node.empty()) {
    result.error =
        "a JavaScript ecosystem file needs node to read it, and there is no node on "
        "PATH; install node, or give the same apps as a .json file";
    return result;
  }
  const std::filesystem::path file = std::filesystem::absolute(path);
  asio::io_context ctx;
  asio::readable_pipe out(ctx), err(ctx);
  bp::process child(ctx, node, {"-e", kLoader, file.string()}, bp::process_stdio{nullptr, out, err},
                    bp::process_start_dir{file.parent_path()});
  asio::steady_timer timer(ctx, kTimeout);
  Run run(child, timer);
  drain(out, run.out, run);
  drain(err, run.err, run);
  // At kTimeout the child is killed; a second after its exit, pipes a
  // process it left behind still holds are closed.
  std::function<void(boost::system::error_code)> on_timer = [&](boost::system::error_code e) {
    if (e) return;
    boost::system::error_code ignored;
    if (!run.exited) {
      run.timed_out = true;
      child.terminate(ignored);
    }
    out.close(ignored);
    err.close(ignored);
  };
  timer.async_wait(on_timer);
  int status = -1;
  child.async_wait([&](boost::system::error_code e, int code) {
    status = e ? -1 : code;
    run.exited = true;
    if (run.open_pipes > 0 && timer.expires_after(std::chrono::seconds(1)) > 0)
      timer.async_wait(on_timer);
    run.maybe_done();
  });
  ctx.run();
  const std::string what = node.string() + " reading " + path;
  if (run.timed_out)
    result.error = what + " did not finish within 10s (killed)";
  else if (run.too_big)
    result.error = what + " wrote more than 16 MiB (killed)";
  else if (status != 0)
    result.error =
        what + " failed (exit status " + std::to_string(status) + "):\n" + last_lines(run.err);
  else {
    result.ok = true;
    result.json = std::move(run.out);
  }
  return result;
}

}  // namespace muster::cli::pm2
