import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { addExamples } from "../help.js";
import { parseEndpoint, type Endpoint } from "../../endpoints/endpoint.js";
import { openSource, openTarget } from "../../endpoints/open.js";
import { PolypackError } from "../../errors/index.js";
import type { PlatformSboms } from "../../sbom/sbom.js";
import type { CliContext } from "../context.js";
import type { OutputChoice } from "../output-choice.js";
import { choiceFlag, collect, platformFlags } from "../flag-parsers.js";
import { renderTable, shortDigest } from "../table.js";

interface SbomFlags {
  platform: string[];
  target: string[];
  format?: "cyclonedx" | "spdx";
  output?: string;
  attach?: boolean;
}

/** One document written or attached, for the report. */
export interface SbomRow {
  platform: string;
  format: "cyclonedx" | "spdx";
  /** The file written, or the referrer manifest's digest. */
  where: string;
  route?: string;
}

/**
 * `polypack sbom LOCATION`: a CycloneDX 1.6 and an SPDX 2.3 document per platform, printed (one
 * platform and format), saved (--output DIR) or attached to each platform manifest as OCI
 * referrers (--attach).
 */
export function registerSbom(program: Command, context: () => CliContext): void {
  const command = program
    .command("sbom")
    .description("make CycloneDX and SPDX SBOMs for each platform; print, save or attach them as referrers")
    .argument("<location>", "registry reference, OCI layout directory (oci:DIR[:REF]) or .cnb file")
    .option("--platform <os/arch[/variant]>", "only this platform (repeatable)", collect, [])
    .option(
      "-t, --target <os/arch[/variant]>",
      "the same as --platform, as buildpack package names it",
      collect,
      [],
    )
    .option(
      "--format <format>",
      "cyclonedx or spdx (default: cyclonedx when printing, both when saving or attaching)",
      choiceFlag("--format", ["cyclonedx", "spdx"]),
    )
    .option("-o, --output <dir>", "write <os>-<arch>[-<variant>].cdx.json / .spdx.json files here")
    .option("--attach", "attach the documents to each platform manifest as OCI referrers")
    .action(async (location: string, flags: SbomFlags) => {
      const ctx = context();
      const platforms = [...platformFlags(flags.platform), ...platformFlags(flags.target, "--target")];
      const printing = flags.output === undefined && !flags.attach;
      const endpoint = parseEndpoint(location);
      const { readArtifact } = await import("../../image/image.js");
      const { makeSboms } = await import("../../sbom/sbom.js");
      const source = await openSource(endpoint, ctx);
      let sboms: PlatformSboms[];
      try {
        sboms = await makeSboms(await readArtifact(source), { name: location, platforms });
      } finally {
        await source.close?.();
      }
      // Printed: one document, CycloneDX unless --format says otherwise; saved or attached: both.
      const formats = flags.format
        ? [flags.format]
        : printing
          ? (["cyclonedx"] as const)
          : (["cyclonedx", "spdx"] as const);
      if (printing) {
        if (sboms.length !== 1) {
          throw new PolypackError(
            "OUTPUT_REQUIRED",
            `${location} has ${sboms.length} platforms (${sboms.map((s) => s.platform).join(", ")}); one document is printed at a time`,
            {
              hint: "name one --platform to print its document, or give --output DIR or --attach",
            },
          );
        }
        process.stdout.write(`${sboms[0]![formats[0]]}\n`);
        return;
      }
      const rows: SbomRow[] = [];
      if (flags.output !== undefined) rows.push(...(await saveAll(flags.output, sboms, formats)));
      if (flags.attach) rows.push(...(await attachAll(endpoint, ctx, sboms, formats)));
      ctx.output.result({ name: location, documents: rows }, (r) =>
        renderTable(
          ["PLATFORM", "FORMAT", "WRITTEN TO", "HOW"],
          r.documents.map((d) => [d.platform, d.format, d.where, d.route ?? "file"]),
        ),
      );
    });
  addExamples(command, [
    {
      does: "print the CycloneDX SBOM of the arm64 image",
      run: "polypack sbom registry.example.com/me/bp:1.0.0 --platform linux/arm64",
    },
    {
      does: "save both formats for every platform",
      run: "polypack sbom ./my-buildpack.cnb --output ./sboms",
    },
    {
      does: "attach them to each platform manifest as OCI referrers",
      run: "polypack sbom registry.example.com/me/bp:1.0.0 --attach",
    },
  ]);
}

/** The file name of a platform's document: `linux-arm64.cdx.json`, `linux-arm-v7.spdx.json`. */
export function sbomFileName(platform: string, format: "cyclonedx" | "spdx"): string {
  return `${platform.replaceAll("/", "-")}.${format === "cyclonedx" ? "cdx" : "spdx"}.json`;
}

/**
 * Attaches each platform's documents to its manifest as OCI referrers in the registry or layout
 * `endpoint` names (see attachReferrers); used by `sbom --attach` and by `buildpack package`.
 */
export async function attachAll(
  endpoint: Endpoint,
  ctx: CliContext,
  sboms: readonly PlatformSboms[],
  formats: readonly ("cyclonedx" | "spdx")[] = ["cyclonedx", "spdx"],
): Promise<SbomRow[]> {
  const { attachReferrers, layoutReferrerStore } = await import("../../image/referrers.js");
  const { CYCLONEDX_MEDIA_TYPE } = await import("../../sbom/cyclonedx.js");
  const { SPDX_MEDIA_TYPE } = await import("../../sbom/spdx.js");
  if (endpoint.kind === "cnb") {
    throw new PolypackError(
      "FLAGS_CONFLICT",
      "--attach needs a registry reference or an OCI layout, not a .cnb file",
      {
        hint: "attach in the registry or layout the package is published to, or use --output",
      },
    );
  }
  const { target } = await openTarget(endpoint, ctx);
  let store;
  if (endpoint.kind === "layout") {
    store = layoutReferrerStore(endpoint.path, target);
  } else {
    const { Reference } = await import("../../registry/reference.js");
    const { registryReferrerStore } = await import("../../registry/referrers.js");
    const reference = Reference.parse(endpoint.reference);
    const client = await ctx.client({ defaultRegistry: reference.registry });
    store = registryReferrerStore(client.transport, target.location!, target);
  }
  const rows: SbomRow[] = [];
  try {
    // One call per subject: its documents are indexed together, one tag-scheme update each.
    for (const sbom of sboms) {
      const attached = await attachReferrers(
        store,
        sbom.subject,
        formats.map((format) => ({
          artifactType: format === "cyclonedx" ? CYCLONEDX_MEDIA_TYPE : SPDX_MEDIA_TYPE,
          bytes: Buffer.from(sbom[format]),
        })),
      );
      formats.forEach((format, i) => {
        rows.push({
          platform: sbom.platform,
          format,
          where: shortDigest(attached.descriptors[i]!.digest),
          ...(attached.route ? { route: attached.route } : {}),
        });
      });
    }
    await target.commit?.();
  } catch (error) {
    await target.abort?.();
    throw error;
  }
  return rows;
}

/** Writes each platform's documents into `dir` (see sbomFileName); returns what it wrote. */
export async function saveAll(
  dir: string,
  sboms: readonly PlatformSboms[],
  formats: readonly ("cyclonedx" | "spdx")[] = ["cyclonedx", "spdx"],
): Promise<SbomRow[]> {
  await mkdir(dir, { recursive: true });
  const rows: SbomRow[] = [];
  for (const sbom of sboms) {
    for (const format of formats) {
      const file = join(dir, sbomFileName(sbom.platform, format));
      await writeFile(file, `${sbom[format]}\n`);
      rows.push({ platform: sbom.platform, format, where: file });
    }
  }
  return rows;
}

/**
 * When a packaging command (buildpack or extension package, builder create) delivers its SBOMs: a
 * publish attaches them before its tags, but by digest only with `--sbom` (the referrers tag scheme
 * would add tags to a push that promises none); a `.cnb` gets them in a folder beside it unless
 * `--no-sbom`; a layout only with `--sbom` (referrer refs in index.json trip tools that read
 * `oci:DIR` without a ref). `sbom` is true with --sbom, false with --no-sbom, else unset.
 */
export function sbomTiming(
  choice: OutputChoice,
  sbom: boolean | undefined,
): "before-tags" | "after" | "none" {
  if (choice.kind === "registry") {
    // A push by digest is the only one without a tag (see chooseOutput).
    const byDigest = choice.tags.length === 0;
    return (byDigest ? sbom === true : sbom !== false) ? "before-tags" : "none";
  }
  return (choice.kind === "layout" ? sbom === true : sbom !== false) ? "after" : "none";
}

/**
 * Delivers a packaging command's SBOMs to its output: as referrers of each platform manifest in a
 * registry or layout, or as files in `<file>.sbom/` beside a `.cnb`.
 */
export function deliverSboms(
  choice: OutputChoice,
  ctx: CliContext,
  sboms: readonly PlatformSboms[],
): Promise<SbomRow[]> {
  if (choice.kind === "registry") {
    return attachAll({ kind: "registry", reference: choice.reference.toString() }, ctx, sboms);
  }
  if (choice.kind === "layout") return attachAll({ kind: "layout", path: choice.path }, ctx, sboms);
  return saveAll(`${choice.path}.sbom`, sboms);
}

/** Says where a packaging command's SBOMs went, and when a push by digest went without them. */
export function reportSboms(
  ctx: CliContext,
  choice: OutputChoice,
  sbom: boolean | undefined,
  rows: readonly SbomRow[],
): void {
  for (const row of rows) {
    ctx.output.note(
      `sbom ${row.platform} ${row.format}: ${row.route ?? row.where}${row.route ? ` ${row.where}` : ""}`,
    );
  }
  if (choice.kind === "registry" && sbom === undefined && sbomTiming(choice, sbom) === "none") {
    ctx.output.note("SBOMs were not attached to this push by digest (--sbom attaches them)");
  }
}
