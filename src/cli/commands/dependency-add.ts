import { dirname } from "node:path";
import type { Command } from "commander";
import { PolypackError } from "../../errors/index.js";
import { Platform } from "../../oci/platform.js";
import type { CliContext } from "../context.js";
import { collect } from "../flag-parsers.js";
import { addExamples } from "../help.js";
import { renderTable } from "../table.js";
import { editSummary, finishEdit, readBuildpackFile } from "./dependency-file.js";

interface AddFlags {
  buildpack: string;
  id: string;
  version: string;
  uri: string;
  target: string[];
  sourceUri?: string;
  archName: string[];
  dryRun?: boolean;
}

/** The `--json` shape of `dependency add`. */
export interface AddReport {
  buildpack: string;
  dryRun: boolean;
  written: boolean;
  entries: {
    id: string;
    version: string;
    target: string;
    uri: string;
    checksum: string;
    size: number;
    /** `added`, or `unchanged` when the file already had it with this checksum. */
    status: "added" | "unchanged";
    /** The archive format read, and how many programs in it were checked for the target. */
    format: string;
    programs: number;
    source?: string;
    sourceChecksum?: string;
  }[];
  diff: string;
}

/**
 * `polypack dependency add`: fetches a dependency for each target from a URI template, checks the
 * programs inside are for that target, and adds the entries to buildpack.toml in its own dialect.
 */
export function registerDependencyAdd(dependency: Command, context: () => CliContext): void {
  const command = dependency
    .command("add")
    .description(
      "download a dependency version for each target, check its programs are for that target, and add it to buildpack.toml in the file's own style",
    )
    .option("--buildpack <buildpack.toml>", "the buildpack.toml (or its folder) to edit", "buildpack.toml")
    .requiredOption("--id <id>", "the dependency id")
    .requiredOption("--version <version>", "the version to add")
    .requiredOption(
      "--uri <template>",
      "where to download it: {version}, {os}, {arch}, {arch:x64} (x64/arm64) and {arch:x86_64} (x86_64/aarch64) are filled in per target",
    )
    .option(
      "--target <os/arch>",
      "a target to add it for (repeatable; default: the buildpack's targets)",
      collect,
      [],
    )
    .option("--source-uri <template>", "the source archive, downloaded for its checksum (same placeholders)")
    .option(
      "--arch-name <name=spelling>",
      "what {arch} gives for an architecture, such as amd64=x64 (repeatable)",
      collect,
      [],
    )
    .option("--dry-run", "print the change as a unified diff and write nothing");
  addExamples(command, [
    {
      does: "add Node 22.12.0 for the buildpack's targets, Node's own arch names in the URL",
      run: "polypack dependency add --id node --version 22.12.0 --uri 'https://nodejs.org/dist/v{version}/node-v{version}-linux-{arch:x64}.tar.xz'",
    },
    {
      does: "show what adding Go 1.25.5 for linux/arm64 would change, without writing",
      run: "polypack dependency add --buildpack go-dist/buildpack.toml --id go --version 1.25.5 --uri 'https://go.dev/dl/go{version}.{os}-{arch}.tar.gz' --target linux/arm64 --dry-run",
    },
    {
      does: "add a JDK whose downloads say x64 and aarch64, with its source",
      run: "polypack dependency add --id jdk --version 21.0.5 --uri 'https://example.com/jdk-{version}-linux-{arch}.tar.gz' --arch-name amd64=x64 --arch-name arm64=aarch64 --source-uri 'https://example.com/jdk-{version}-src.tar.gz'",
    },
  ]);
  command.action(async (flags: AddFlags) => {
    const { addEntries, fetchAdditions, parseArchNames } =
      await import("../../dependencies/authoring/index.js");
    const ctx = context();
    const archNames = parseArchNames(flags.archName);
    const { path, text } = await readBuildpackFile(flags.buildpack);
    const targets =
      flags.target.length > 0
        ? flags.target.map((t) => Platform.parse(t, "--target"))
        : await buildpackTargets(text, path);
    const progress = ctx.output.progress();
    let fetched;
    try {
      fetched = await fetchAdditions({
        id: flags.id,
        version: flags.version,
        uriTemplate: flags.uri,
        ...(flags.sourceUri !== undefined ? { sourceUriTemplate: flags.sourceUri } : {}),
        targets,
        archNames,
        baseDir: dirname(path),
        ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
        onEvent: progress.onDependency,
        onWarning: (message) => ctx.output.warn(message),
      });
    } finally {
      progress.finish();
    }
    const outcome = addEntries(
      text,
      path,
      fetched.map((f) => f.addition),
    );
    const dryRun = flags.dryRun === true;
    const result = await finishEdit(path, text, outcome.text, dryRun);
    const report: AddReport = {
      buildpack: path,
      dryRun,
      written: result.written,
      entries: fetched.map(({ addition, size, check }) => ({
        id: addition.id,
        version: addition.version,
        target: addition.platform.toString(),
        uri: addition.uri,
        checksum: `sha256:${addition.sha256}`,
        size,
        status: outcome.unchanged.includes(addition) ? "unchanged" : "added",
        format: check.format,
        programs: check.programs,
        ...(addition.source !== undefined ? { source: addition.source } : {}),
        ...(addition.sourceSha256 !== undefined ? { sourceChecksum: `sha256:${addition.sourceSha256}` } : {}),
      })),
      diff: result.diff,
    };
    ctx.output.result(report, (r) =>
      [
        renderTable(
          ["ID", "VERSION", "TARGET", "CHECKSUM", "PROGRAMS", "STATUS"],
          r.entries.map((e) => [
            e.id,
            e.version,
            e.target,
            e.checksum,
            `${e.programs} (${e.format})`,
            e.status,
          ]),
        ),
        "",
        editSummary(path, result, dryRun),
      ].join("\n"),
    );
  });
}

/** The targets a buildpack.toml declares (or its stacks imply); a usage error when it has none. */
export async function buildpackTargets(text: string, path: string): Promise<Platform[]> {
  const { checkDescriptor, effectiveTargets } = await import("../../buildpack/index.js");
  const { descriptor, problems } = checkDescriptor(text, "buildpack", { file: path });
  const fatal = problems.find((p) => /^(BUILDPACK_TOML_INVALID|DEPENDENCY_)/.test(p.code));
  if (fatal !== undefined) throw fatal;
  const targets = descriptor === undefined ? [] : effectiveTargets(descriptor, { hasBin: false }).targets;
  const platforms = targets.map((t) => t.platform).filter((p) => p.os !== "" && p.architecture !== "");
  if (platforms.length === 0) {
    throw new PolypackError("FLAG_INVALID", `${path} declares no [[targets]] with an os and arch`, {
      hint: "name the targets with --target linux/amd64 --target linux/arm64",
    });
  }
  return platforms;
}
