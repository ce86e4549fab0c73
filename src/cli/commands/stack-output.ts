import type { CliContext } from "../context.js";
import { PolypackError } from "../../errors/index.js";
import { openTarget } from "../../endpoints/open.js";
import { Platform } from "../../oci/platform.js";
import { Reference } from "../../registry/reference.js";
import type { StackDestination, WrittenIndex } from "../../stack/write-stack.js";
import type { PlatformJSON } from "../../oci/platform.js";
import { formatBytes, renderTable, shortDigest } from "../table.js";

/** The output flags the stack commands share. */
export interface StackOutputFlags {
  publish?: boolean;
  format?: "layout" | "image";
  output?: string;
}

/** Where a stack's two indexes go, checked but not yet opened. */
export type StackOutputChoice =
  | { kind: "registry"; build: string; run: string }
  | { kind: "layout"; path: string; build: string; run: string };

/**
 * Reads the output flags of the stack commands: with `--publish` (or `--format image`) the two
 * indexes go to the registry references BUILD_NAME and RUN_NAME (tag: theirs, else `latest`); with
 * `--format layout --output DIR` (or just `--output DIR`) into one OCI layout, under the ref names
 * BUILD_NAME and RUN_NAME. Checked before anything is read, so a usage error costs nothing.
 */
export function chooseStackOutput(
  buildName: string,
  runName: string,
  flags: StackOutputFlags,
): StackOutputChoice {
  const format =
    flags.format ?? (flags.publish ? "image" : flags.output !== undefined ? "layout" : undefined);
  if (format === undefined) {
    throw new PolypackError("OUTPUT_REQUIRED", "say where the build and run images go", {
      hint: "add --publish to push BUILD_NAME and RUN_NAME, or --format layout --output DIR",
    });
  }
  if (flags.publish && format !== "image") {
    throw new PolypackError("FLAGS_CONFLICT", `--publish pushes to a registry, but --format is ${format}`, {
      hint: "drop --publish to write a layout, or drop --format",
    });
  }
  if (format === "image" && flags.output !== undefined) {
    throw new PolypackError(
      "FLAGS_CONFLICT",
      "--output names a layout, but the images are pushed to a registry",
      {
        hint: "drop --output, or use --format layout",
      },
    );
  }
  if (buildName === runName) {
    throw new PolypackError("FLAGS_CONFLICT", `the build and run images would both be ${buildName}`, {
      hint: "give the run image another name",
    });
  }
  if (format === "image") {
    Reference.parse(buildName);
    Reference.parse(runName);
    return { kind: "registry", build: buildName, run: runName };
  }
  if (flags.output === undefined) {
    throw new PolypackError("OUTPUT_REQUIRED", "--format layout needs --output DIR", {
      hint: "for example --output ./my-stack-oci",
    });
  }
  return { kind: "layout", path: flags.output, build: buildName, run: runName };
}

/**
 * Opens the chosen output. A layout that does not exist yet is written beside its path and renamed
 * into place only when complete, so a failed run leaves nothing there.
 */
export async function openStackOutput(
  choice: StackOutputChoice,
  ctx: CliContext,
): Promise<{ build: StackDestination; run: StackDestination }> {
  if (choice.kind === "registry") {
    const open = async (name: string): Promise<StackDestination> => {
      const { target } = await openTarget({ kind: "registry", reference: name }, ctx);
      return { target, tags: [Reference.parse(name).tag ?? "latest"] };
    };
    return { build: await open(choice.build), run: await open(choice.run) };
  }
  const { checkOutput } = await import("../../package/output-check.js");
  await checkOutput("layout", choice.path);
  const { LayoutTarget } = await import("../../layout/layout-target.js");
  const target = await LayoutTarget.create(choice.path, { whole: true });
  return { build: { target, tags: [choice.build] }, run: { target, tags: [choice.run] } };
}

/** The `--json` shape of a written stack. */
export interface StackReport {
  build: IndexReport;
  run: IndexReport;
  targets: { platform: string; build: string; run: string; distro?: string }[];
  /** True when the destination held everything already and only tags were written. */
  upToDate: boolean;
  /** Bytes of blobs sent (or copied into a layout); mounted and existing blobs count nothing. */
  bytesUploaded: number;
}

/** One written index. */
export interface IndexReport {
  name: string;
  digest: string;
  tags: readonly string[];
  blobs: WrittenIndex["counts"]["blobs"];
}

/** The report of a written stack. */
export function stackReport(
  names: { build: string; run: string },
  written: { build: WrittenIndex; run: WrittenIndex },
  targets: { platform: PlatformJSON; build: string; run: string; distro?: string | undefined }[],
): StackReport {
  const index = (name: string, w: WrittenIndex): IndexReport => ({
    name,
    digest: w.root.digest,
    tags: w.tags,
    blobs: w.counts.blobs,
  });
  return {
    build: index(names.build, written.build),
    run: index(names.run, written.run),
    targets: targets.map((t) => ({
      platform: Platform.fromJSON(t.platform).toString(),
      build: t.build,
      run: t.run,
      ...(t.distro ? { distro: t.distro } : {}),
    })),
    upToDate: written.build.counts.upToDate && written.run.counts.upToDate,
    bytesUploaded: written.build.counts.blobs.bytesUploaded + written.run.counts.blobs.bytesUploaded,
  };
}

/** The text form of a stack report. */
export function renderStackReport(report: StackReport): string {
  const table = renderTable(
    ["PLATFORM", "DISTRO", "BUILD", "RUN"],
    report.targets.map((t) => [t.platform, t.distro ?? "", shortDigest(t.build), shortDigest(t.run)]),
  );
  const line = (kind: string, r: IndexReport): string =>
    `${kind} ${r.name} ${r.digest}${r.tags.length > 0 ? `, tagged ${r.tags.join(", ")}` : ""}`;
  const moved = report.upToDate ? "nothing new written" : `${formatBytes(report.bytesUploaded)} written`;
  return `${table}\n\n${line("build", report.build)}\n${line("run", report.run)}\n${moved}`;
}
