#include "cli/terminal.h"

#include <unistd.h>

#include "ipc/utf8.h"

namespace muster::cli {
namespace {

std::string escaped_if(bool escape, std::string text) {
  if (!escape) return text;
  return ipc::escape_controls(text, ipc::Newlines::keep);
}

}  // namespace

TerminalText::TerminalText(bool raw)
    : escape_stdout_(!raw && ::isatty(STDOUT_FILENO) == 1),
      escape_stderr_(!raw && ::isatty(STDERR_FILENO) == 1) {}

std::string TerminalText::for_stdout(std::string text) const {
  return escaped_if(escape_stdout_, std::move(text));
}

std::string TerminalText::for_stderr(std::string text) const {
  return escaped_if(escape_stderr_, std::move(text));
}

}  // namespace muster::cli
