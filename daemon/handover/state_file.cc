#include "daemon/handover/state_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>

#include "daemon/common/errno_text.h"

namespace muster::daemon::handover {
namespace json = boost::json;
namespace {

constexpr unsigned kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
// Boost.JSON's default (32) is meant for outside input; the state is
// musterd's own and nests apps, workers and their settings. The parser keeps
// its depth on a stack of its own, not on the call stack.
constexpr std::size_t kMaxDepth = 256;

Error failed(const std::string& what, int err) {
  return Error{"state file: " + what + ": " + describe_errno(err), err};
}

std::string size_text(std::size_t bytes) {
  return std::to_string(bytes) + " bytes (at most " + std::to_string(kMaxStateBytes >> 20) +
         " MiB)";
}

Result<void> write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("cannot write", errno);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// The file's bytes from offset 0, refusing more than kMaxStateBytes.
Result<std::string> read_all(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return failed("cannot stat", errno);
  if (static_cast<std::size_t>(st.st_size) > kMaxStateBytes)
    return Error{"state file: too large: " + size_text(static_cast<std::size_t>(st.st_size))};
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t done = 0;
  for (;;) {
    if (done == text.size()) {
      // Longer than fstat said (not sealed against growth): read on, bounded.
      if (text.size() > kMaxStateBytes)
        return Error{"state file: too large: more than " + size_text(kMaxStateBytes)};
      text.resize(std::min(text.size() * 2, kMaxStateBytes + 1));
    }
    ssize_t n = ::pread(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("cannot read", errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return text;
}

const json::value* field(const json::object& envelope, std::string_view key) {
  return envelope.if_contains(key);
}

Result<StateEnvelope> unwrap(json::value doc) {
  auto* envelope = doc.if_object();
  if (!envelope) return Error{"state file: not a JSON object"};
  auto* format = field(*envelope, "muster_state");
  if (!format || !format->is_int64()) return Error{"state file: no \"muster_state\" format number"};
  if (format->get_int64() != kStateFormat)
    return Error{"state format " + std::to_string(format->get_int64()) +
                 " is not one this musterd reads (it reads " + std::to_string(kStateFormat) + ")"};
  auto* from = field(*envelope, "from_version");
  if (!from || !from->is_string()) return Error{"state file: no \"from_version\" string"};
  if (!field(*envelope, "body")) return Error{"state file: no \"body\""};
  StateEnvelope out;
  out.format = kStateFormat;
  out.from_version = std::string(from->get_string());
  out.body = std::move(envelope->at("body"));
  return out;
}

}  // namespace

Result<ipc::UniqueFd> write_state_file(const json::value& body, std::string_view from_version) {
  json::object envelope;
  envelope["muster_state"] = kStateFormat;
  envelope["from_version"] = from_version;
  envelope["body"] = body;
  std::string text = json::serialize(envelope);
  // Refused here rather than by the reader after the exec: the upgrade is
  // then abandoned before anything crossed.
  if (text.size() > kMaxStateBytes)
    return Error{"state file: too large: " + size_text(text.size())};
  ipc::UniqueFd fd(::memfd_create("musterd-state", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return failed("cannot create a memfd", errno);
  if (auto written = write_all(fd.get(), text); !written) return written.error();
  if (::fcntl(fd.get(), F_ADD_SEALS, kSeals) < 0) return failed("cannot seal", errno);
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return failed("cannot rewind", errno);
  return fd;
}

Result<StateEnvelope> read_state_file(int fd) {
  auto text = read_all(fd);
  if (!text) return text.error();
  if (text->empty()) return Error{"state file: empty"};
  json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value doc = json::parse(*text, ec, {}, options);
  if (ec) return Error{"state file: not JSON (" + ec.message() + ")"};
  return unwrap(std::move(doc));
}

}  // namespace muster::daemon::handover
