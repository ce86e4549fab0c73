import { readFile } from "node:fs/promises";
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
 * newest `patches` versions per `[[metadata.dependency-constraints]]`.
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
    .option("--dry-run", "print the change as a unified diff and write nothing");
  addExamples(command, [
    {
      does: "merge the versions a retrieval job found",
      run: "polypack dependency update --buildpack buildpack.toml --metadata metadata.json",
    },
    {
      does: "see what would change, without writing",
      run: "polypack dependency update --metadata metadata.json --dry-run",
    },
  ]);
  command.action(async (flags: UpdateFlags) => {
    const { parseMetadataJson, updateEntries } = await import("../../dependencies/authoring/index.js");
    const ctx = context();
    const { path, text } = await readBuildpackFile(flags.buildpack);
    const json = await onUserPath({ path: flags.metadata, operation: "read", code: "PATH_NOT_FOUND" }, () =>
      readFile(flags.metadata, "utf8"),
    );
    const outcome = updateEntries(text, path, parseMetadataJson(json, flags.metadata));
    for (const message of outcome.skipped) ctx.output.warn(message);
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
