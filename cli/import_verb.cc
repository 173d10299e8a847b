#include "cli/import_verb.h"

#include "cli/exit_code.h"
#include "cli/import_pm2.h"
#include "cli/import_supervisord.h"

namespace muster::cli {

void add_import_verb(CLI::App& app, ImportArgs& args) {
  args.verb = app.add_subcommand(
      "import",
      "Print a muster config made from another process manager's configuration (stdout), "
      "with warnings on stderr; contacts no musterd.");
  args.verb->require_subcommand(1);
  args.pm2 = args.verb->add_subcommand(
      "pm2",
      "A PM2 ecosystem file (.json; .js, .cjs or .mjs, read by running your node on it) or "
      "PM2's saved process list (~/.pm2/dump.pm2). Keys muster has no equivalent for become "
      "comments saying why (docs/coming-from-pm2.md).");
  args.pm2->add_option("FILE", args.pm2_file, "The ecosystem file or dump.pm2.")->required();
  args.supervisord = args.verb->add_subcommand(
      "supervisord",
      "supervisord's config files ([program:x], [group:x], their [include] files=), read as "
      "supervisord reads them. Keys muster has no equivalent for become comments saying why "
      "(docs/coming-from-supervisord.md).");
  args.supervisord
      ->add_option("FILE", args.supervisord_files, "supervisord.conf, or files of conf.d/.")
      ->required();
}

int run_import_verb(const ImportArgs& args) {
  if (args.pm2 != nullptr && args.pm2->parsed()) return pm2::run_import(args.pm2_file);
  if (args.supervisord != nullptr && args.supervisord->parsed())
    return supervisord::run_import_supervisord(args.supervisord_files);
  return kExitUsage;
}

}  // namespace muster::cli
