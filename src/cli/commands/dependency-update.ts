import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Command } from "commander";
import { onUserPath } from "../../util/path-error.js";
import type { CliContext } from "../context.js";
import { addExamples } from "../help.js";
import { renderTable } from "../table.js";
import { editSummary, finishEdit, readBuildpackFile } from "./dependency-file.js";

interface UpdateFlags {
  buildpack: string;
  metadata: string;
  dryRun?: boolean;
  /** False with --no-verify. */
  verify: boolean;
}

/** The `--json` shape of `dependency update`. */
export interface UpdateReport {
  buildpack: string;
  dryRun: boolean;
  written: boolean;
  added: { id: string; version: string; platform: string }[];
  removed: { id: string; version: string; platform: string }[];
  skipped: string[];
  diff: string;
}

/**
 * `polypack dependency update`: merges a Paketo metadata.json into buildpack.toml, keeping the
 * newest `patches` versions per `[[metadata.dependency-constraints]]`. Each entry it adds is first
 * downloaded into the dependency cache, checked against its checksum, and its programs checked to
 * be for its arch, as `dependency add` does (`--no-verify` skips this, for air-gapped machines).
 */
export function registerDependencyUpdate(dependency: Command, context: () => CliContext): void {
  const command = dependency
    .command("update")
    .description(
      "merge new dependency versions from a Paketo metadata.json into buildpack.toml, keeping the newest `patches` per dependency-constraint",
    )
    .option("--buildpack <buildpack.toml>", "the buildpack.toml (or its folder) to edit", "buildpack.toml")
    .requiredOption(
      "--metadata <metadata.json>",
      "the metadata.json, as `jam update-dependencies --metadata-file` reads it",
    )
    .option("--dry-run", "print the change as a unified diff and write nothing")
    .option(
      "--no-verify",
      "do not download the new entries to check their checksums and that their programs are for their arch",
    );
  addExamples(command, [
    {
      does: "merge the versions a retrieval job found",
      run: "polypack dependency update --buildpack buildpack.toml --metadata metadata.json",
    },
    {
      does: "see what would change, without writing",
      run: "polypack dependency update --metadata metadata.json --dry-run",
    },
    {
      does: "merge on a machine without network access, trusting the metadata.json's checksums and arches",
      run: "polypack dependency update --metadata metadata.json --no-verify",
    },
  ]);
  command.action(async (flags: UpdateFlags) => {
    const { parseMetadataJson, updateEntries, verifyUpdate } =
      await import("../../dependencies/authoring/index.js");
    const ctx = context();
    const { path, text } = await readBuildpackFile(flags.buildpack);
    const json = await onUserPath({ path: flags.metadata, operation: "read", code: "PATH_NOT_FOUND" }, () =>
      readFile(flags.metadata, "utf8"),
    );
    const outcome = updateEntries(text, path, parseMetadataJson(json, flags.metadata));
    for (const message of outcome.skipped) ctx.output.warn(message);
    if (!flags.verify) {
      if (outcome.addedEntries.length > 0) {
        ctx.output.warn(
          "--no-verify: the new entries were not downloaded to check their checksums and arches",
        );
      }
    } else if (outcome.addedEntries.length > 0) {
      const progress = ctx.output.progress();
      try {
        await verifyUpdate(outcome.addedEntries, outcome.text, path, flags.metadata, {
          baseDir: dirname(path),
          ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
          ...(ctx.registry.timeoutMs ? { idleTimeoutMs: ctx.registry.timeoutMs } : {}),
          onEvent: progress.onDependency,
          onWarning: (message) => ctx.output.warn(message),
        });
      } finally {
        progress.finish();
      }
    }
    const dryRun = flags.dryRun === true;
    const result = await finishEdit(path, text, outcome.text, dryRun);
    const report: UpdateReport = {
      buildpack: path,
      dryRun,
      written: result.written,
      added: outcome.added,
      removed: outcome.removed,
      skipped: outcome.skipped,
      diff: result.diff,
    };
    ctx.output.result(report, (r) => {
      const rows = [
        ...r.added.map((c) => ["added", c.id, c.version, c.platform]),
        ...r.removed.map((c) => ["removed", c.id, c.version, c.platform]),
      ];
      const table =
        rows.length > 0 ? `${renderTable(["CHANGE", "ID", "VERSION", "PLATFORM"], rows)}\n\n` : "";
      return `${table}${editSummary(path, result, dryRun)}`;
    });
  });
}
