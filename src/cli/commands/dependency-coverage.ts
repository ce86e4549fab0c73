import type { Command } from "commander";
import type { CoverageReport } from "../../buildpack/dependencies-coverage.js";
import { isPolypackError, type PolypackError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { addExamples } from "../help.js";
import { printedWithResult } from "../output.js";
import { renderTable } from "../table.js";
import { buildpackTargets } from "./dependency-add.js";
import { readBuildpackFile } from "./dependency-file.js";

interface CoverageFlags {
  buildpack: string;
}

/** The `--json` shape of `dependency coverage`: the report, and the error when a target lacks a dependency. */
export type CoverageCommandReport = CoverageReport & { buildpack: string; error?: unknown };

/**
 * `polypack dependency coverage`: which versions of each dependency every target gets, and what is
 * missing; exit 1 (DEPENDENCY_COVERAGE_INCOMPLETE) when a target lacks a dependency id entirely.
 */
export function registerDependencyCoverage(dependency: Command, context: () => CliContext): void {
  const command = dependency
    .command("coverage")
    .description(
      "show which dependency versions each target of a buildpack gets; fails when a target lacks a dependency another has",
    )
    .option("--buildpack <buildpack.toml>", "the buildpack.toml (or its folder) to read", "buildpack.toml");
  addExamples(command, [
    { does: "check ./buildpack.toml", run: "polypack dependency coverage" },
    {
      does: "the report as JSON, for a CI step",
      run: "polypack --json dependency coverage --buildpack node-engine/buildpack.toml",
    },
  ]);
  command.action(async (flags: CoverageFlags) => {
    const { assertCoverage, dependencyCoverage, parseDependencies } =
      await import("../../buildpack/index.js");
    const ctx = context();
    const { path, text } = await readBuildpackFile(flags.buildpack);
    const targets = (await buildpackTargets(text, path)).map((platform) => ({ platform, distros: [] }));
    const coverage = dependencyCoverage(parseDependencies(text, { file: path }), targets, { strict: true });
    let failure: PolypackError | undefined;
    try {
      assertCoverage(coverage);
    } catch (error) {
      if (!isPolypackError(error)) throw error;
      failure = error;
    }
    const report: CoverageCommandReport = {
      buildpack: path,
      ...coverage,
      ...(failure !== undefined ? { error: failure.toJSON() } : {}),
    };
    for (const issue of coverage.issues.filter((i) => i.severity === "warning"))
      ctx.output.warn(issue.message);
    ctx.output.result(report, renderCoverage);
    if (failure !== undefined) throw printedWithResult(failure);
  });
}

function renderCoverage(report: CoverageCommandReport): string {
  const rows = report.dependencies.flatMap((d) =>
    d.versions.map((v) => [d.id, v.version, v.targets.length > 0 ? v.targets.join(", ") : "(none)"]),
  );
  const table = rows.length > 0 ? renderTable(["DEPENDENCY", "VERSION", "TARGETS"], rows) : "no dependencies";
  const notes = report.issues.filter((i) => i.severity === "info").map((i) => `note: ${i.message}`);
  return [
    `${report.buildpack}: ${report.explanation}`,
    "",
    table,
    ...(notes.length > 0 ? ["", ...notes] : []),
  ].join("\n");
}
