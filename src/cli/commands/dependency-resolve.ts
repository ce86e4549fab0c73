import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { onUserPath } from "../../util/path-error.js";
import { Platform } from "../../oci/platform.js";
import type { CliContext } from "../context.js";
import { renderTable } from "../table.js";
import { addExamples } from "../help.js";
import { PolypackError } from "../../errors/index.js";
import { closestWord } from "../../util/suggest.js";

interface ResolveFlags {
  buildpack: string;
  id: string;
  version?: string;
  stack?: string;
}

/** The `--json` shape of a resolution. */
export interface ResolveReport {
  id: string;
  version: string;
  uri?: string;
  checksum?: string;
  constraint: string;
  target: string;
  targetSource: string;
  warnings: string[];
}

/**
 * `polypack dependency resolve`: the `[[metadata.dependencies]]` entry packit would install, for the
 * target named by CNB_TARGET_* (else BP_ARCH, else this machine).
 */
export function registerDependencyResolve(dependency: Command, context: () => CliContext): void {
  const command = dependency
    .command("resolve")
    .description(
      "pick the dependency a buildpack would install for the current target, as packit's resolver does (see README for the differences)",
    )
    .option("--buildpack <buildpack.toml>", "the buildpack.toml (or its folder) to read", "buildpack.toml")
    .requiredOption("--id <id>", "the dependency id")
    .option("--version <constraint>", "a version constraint (default: [metadata.default-versions], else any)")
    .option("--stack <id>", "the stack id to match (buildpacks that still use stacks)");
  addExamples(command, [
    {
      does: "the node version ./buildpack.toml installs on this machine",
      run: "polypack dependency resolve --id node",
    },
    {
      does: "the newest 20.x for linux/arm64",
      run: "CNB_TARGET_OS=linux CNB_TARGET_ARCH=arm64 polypack dependency resolve --buildpack bp/buildpack.toml --id node --version '20.*'",
    },
  ]);
  command.action(async (flags: ResolveFlags) => {
    const { checkDescriptor, resolveDependency, selectTarget, targetKey } =
      await import("../../buildpack/index.js");
    const ctx = context();
    // A folder stands for its buildpack.toml, as `--path` does for `buildpack package`.
    if ((await stat(flags.buildpack).catch(() => undefined))?.isDirectory()) {
      flags.buildpack = join(flags.buildpack, "buildpack.toml");
    }
    const text = await onUserPath({ path: flags.buildpack, operation: "read", code: "PATH_NOT_FOUND" }, () =>
      readFile(flags.buildpack, "utf8"),
    );
    // A source buildpack.toml may lack a version or hold a template; only its dependencies matter here.
    const check = checkDescriptor(text, "buildpack", { file: flags.buildpack });
    const fatal = check.problems.find((p) => /^(BUILDPACK_TOML_INVALID|DEPENDENCY_)/.test(p.code));
    if (fatal !== undefined || check.descriptor === undefined) throw fatal ?? check.problems[0]!;
    const { dependencies } = check.descriptor.metadata;
    if (!dependencies.some((d) => d.id === flags.id)) {
      const ids = [...new Set(dependencies.map((d) => d.id))].sort();
      throw new PolypackError(
        "DEPENDENCY_NOT_FOUND",
        `${flags.buildpack} has no dependency with id ${JSON.stringify(flags.id)}; ` +
          (ids.length > 0
            ? `its dependency ids are: ${ids.join(", ")}`
            : "it declares no [[metadata.dependencies]]"),
        {
          hint:
            ids.length > 0
              ? `give one of them with --id, for example --id ${closestWord(flags.id, ids) ?? ids[0]}`
              : "add [[metadata.dependencies]] entries",
        },
      );
    }
    const { target, source } = selectTarget(process.env, Platform.host());
    const resolution = resolveDependency(dependencies, {
      id: flags.id,
      ...(flags.version !== undefined ? { version: flags.version } : {}),
      ...(flags.stack !== undefined ? { stack: flags.stack } : {}),
      target,
      defaultVersions: check.descriptor.metadata.defaultVersions,
    });
    const { dependency } = resolution;
    for (const warning of resolution.warnings) ctx.output.warn(warning.message);
    const report: ResolveReport = {
      id: dependency.id,
      version: dependency.version,
      ...(dependency.uri !== undefined ? { uri: dependency.uri } : {}),
      ...(dependency.checksum ? { checksum: dependency.checksum.toString() } : {}),
      constraint: resolution.constraint,
      target: targetKey(target),
      targetSource: source,
      warnings: resolution.warnings.map((w) => w.message),
    };
    ctx.output.result(report, (r) =>
      renderTable(
        ["ID", "VERSION", "TARGET", "URI", "CHECKSUM"],
        [[r.id, r.version, `${r.target} (${r.targetSource})`, r.uri ?? "", r.checksum ?? ""]],
      ),
    );
  });
}
