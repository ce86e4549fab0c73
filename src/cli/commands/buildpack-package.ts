import type { Command } from "commander";
import { chooseOutput, type OutputChoice } from "../output-choice.js";
import { deliverSboms, reportSboms, sbomTiming, type SbomRow } from "./sbom.js";
import type { PackageDestination } from "../../package/deliver.js";
import type { PackageEvent, PackageResult } from "../../package/package.js";
import type { LayerWriteSummary } from "../../package/build.js";
import type { CoverageReport } from "../../buildpack/dependencies-coverage.js";
import { Platform } from "../../oci/platform.js";
import { openSource } from "../../endpoints/open.js";
import { tagElsewhere } from "../tag-elsewhere.js";
import type { CliContext } from "../context.js";
import { choiceFlag, collect } from "../flag-parsers.js";
import { addExamples } from "../help.js";
import { BlobNames } from "../blob-names.js";
import { parseLabels, splitList } from "../labels-flag.js";
import { packageExamples } from "./buildpack-package-examples.js";
import { folderOfPath, pullingSource, PULL_POLICIES, type PullPolicy } from "./buildpack-package-inputs.js";
import { renderTable, shortDigest } from "../table.js";
import { renderPlan } from "./buildpack-package-render.js";
import { PolypackError } from "../../errors/index.js";

interface PackageFlags {
  path?: string;
  config?: string;
  target: string[];
  format?: string;
  output?: string;
  publish?: boolean;
  tag: string[];
  byDigest?: boolean;
  archTags?: boolean;
  label: string[];
  offline?: boolean;
  strict?: boolean;
  dryRun?: boolean;
  prePackage: boolean;
  cacheDir?: string;
  layerCache: boolean;
  version?: string;
  perTargetFiles?: boolean;
  appendImageNameSuffix?: boolean;
  pullPolicy: PullPolicy;
  buildpackRegistry?: string;
  verify: boolean;
  allow: string[];
  sbom?: boolean;
  flatten?: boolean;
  flattenExclude: string[];
}

/**
 * `polypack buildpack package NAME` (and `polypack extension package NAME`): one buildpack (or image
 * extension) source in, one multi-arch package out.
 */
export function registerBuildpackPackage(
  parent: Command,
  context: () => CliContext,
  kind: "buildpack" | "extension" = "buildpack",
): void {
  const what = kind === "extension" ? "an image extension" : "a buildpack";
  const command = parent
    .command("package")
    .description(`package ${what} for each of its targets as one multi-arch image, OCI layout or .cnb`)
    .argument(
      "<name>",
      "image reference to push to (--publish), or the .cnb file to write (--format file); with --output (a layout or .cnb), its tag names the image there (default: latest)",
    )
    .option("-p, --path <dir>", `the ${kind}'s folder, or its ${kind}.toml (default: the working directory)`)
    .option(
      "-c, --config <package.toml>",
      `a package.toml naming the ${kind} (and, for a buildpack, its dependencies)`,
    )
    .option(
      "-t, --target <os/arch[/variant]>",
      "a target to package (repeatable; default: the declared targets)",
      collect,
      [],
    )
    .option(
      "-f, --format <format>",
      "file (.cnb), layout (OCI image layout) or image (registry, with --publish)",
      choiceFlag("--format", ["file", "layout", "image"], "FORMAT_INVALID"),
    )
    .option("--per-target-files", "with --format file: one <name>-<os>-<arch>.cnb per target, as pack writes")
    .option("-o, --output <path>", "where the .cnb file or layout directory goes")
    .option("--publish", "push the package to the registry NAME names")
    .option(
      "--tag <tag>",
      "another tag, REPOSITORY:TAG of the same registry, or layout ref name (repeatable, or a,b)",
      collectList,
      [],
    )
    .option("--by-digest", "push without any tag and print the digest")
    .option("--arch-tags", "also tag each platform's image <tag>-<os>-<arch>")
    .option("--append-image-name-suffix", "pack's name for --arch-tags")
    .option("-l, --label <name=value>", "a label for every image (repeatable, or a=1,b=2)", collect, [])
    .option("--version <version>", `the ${kind} version to package (fills a missing or {{.version}} version)`)
    .option(
      "--pull-policy <policy>",
      "reading image dependencies: always, if-not-present (polypack keeps no image store: as always) or never",
      choiceFlag("--pull-policy", PULL_POLICIES),
      "always",
    )
    .option("--offline", "put each target's dependencies into its layer")
    .option("--strict", "fail when a target lacks a dependency another target has, or is not declared")
    .option("--dry-run", "print the plan without running or writing anything")
    .option("--no-pre-package", "do not run [metadata] pre-package")
    .option("--cache-dir <dir>", "where offline dependencies are cached")
    .option("--no-layer-cache", "compress every layer from scratch instead of reusing cached pieces")
    .option(
      "-r, --buildpack-registry <index>",
      "a buildpack registry index (local clone or URL) for urn:cnb:registry: dependencies",
    )
    // Verification (see `polypack verify`): on by default, before anything is written.
    .option("--no-verify", "skip checking that each target's programs are built for that target")
    .option(
      "--allow <pattern>",
      "a path meant to be foreign, such as a cross-compiler (repeatable)",
      collect,
      [],
    )
    .option("--sbom", "also attach SBOMs in an OCI layout (a publish and a .cnb get them by default)")
    .option("--no-sbom", "write no SBOMs")
    .option("--flatten", "put a composite's buildpacks into one layer, as pack --flatten does")
    .option(
      "-e, --flatten-exclude <id@version>",
      "with --flatten: a buildpack that keeps its own layer (repeatable, or a,b)",
      collectList,
      [],
    );
  addExamples(command, packageExamples(kind));
  command.action(async (name: string, flags: PackageFlags) => {
    const ctx = context();
    if (flags.flattenExclude.length > 0 && flags.flatten !== true) {
      throw new PolypackError("FLAGS_CONFLICT", "--flatten-exclude only applies with --flatten", {
        hint: "add --flatten, or drop --flatten-exclude",
      });
    }
    if (flags.flatten === true) {
      ctx.output.warn(
        "flattening a buildpack package can break the distribution specification; use it with care",
      );
    }
    const archTags = (flags.archTags ?? false) || (flags.appendImageNameSuffix ?? false);
    const path = flags.path === undefined ? undefined : await folderOfPath(flags.path, kind);
    // Loaded here, not at start-up, so other commands do not pay for the packaging code.
    const { packageBuildpack } = await import("../../package/package.js");
    const labels = parseLabels(flags.label);
    const { includeCompositeLayers, compositeDefaultPlatforms, compositeMetadataLabel } =
      await import("../../package/composite.js");
    const downloads = {
      ...(ctx.registry.caFile ? { caFile: ctx.registry.caFile } : {}),
      ...(ctx.registry.timeoutMs ? { idleTimeoutMs: ctx.registry.timeoutMs } : {}),
    };
    const dependencies = {
      openSource: pullingSource(flags.pullPolicy, (endpoint) => openSource(endpoint, ctx)),
      ...(flags.buildpackRegistry ? { buildpackRegistry: flags.buildpackRegistry } : {}),
      downloads: { ...downloads, ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}) },
    };
    const choice = flags.dryRun ? undefined : chooseOutput(name, { ...flags, tags: flags.tag, archTags });
    const names = new BlobNames();
    const progress = ctx.output.progress({
      local: choice?.kind !== "registry",
      names,
      otherManifest: "index",
    });
    const destination = choice
      ? await openDestination(choice, ctx, archTags, flags.perTargetFiles)
      : undefined;
    if (destination) ctx.output.detail(`packaging into ${describeDestination(choice!)}`);
    let result: PackageResult;
    const sbomRows: SbomRow[] = [];
    // Warnings the run already gave as it went, so the plan's list at the end does not repeat them.
    const warned = new Set<string>();
    try {
      result = await packageBuildpack({
        ...(kind === "extension" ? { kind } : {}),
        ...(flags.label.length > 0 ? { labels } : {}),
        ...(path !== undefined ? { path } : {}),
        ...(flags.version !== undefined ? { version: flags.version } : {}),
        ...(flags.config !== undefined ? { config: flags.config } : {}),
        ...(flags.target.length > 0 ? { targets: flags.target } : {}),
        offline: flags.offline ?? false,
        strict: flags.strict ?? false,
        dryRun: flags.dryRun ?? false,
        prePackage: flags.prePackage,
        ...(flags.layerCache ? {} : { layerCache: false as const }),
        verify: flags.verify,
        allow: flags.allow,
        // SBOMs of a publish are attached before its tags, so a tag never names a package without them.
        ...(choice && sbomTiming(choice, flags.sbom) === "before-tags"
          ? {
              beforeTags: async (plan, images) => {
                sbomRows.push(...(await packageSbomsTo(name, choice, { plan, images }, ctx)));
              },
            }
          : {}),
        ...(flags.flatten === true ? { flatten: { exclude: flags.flattenExclude } } : {}),
        ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
        downloads,
        ...(destination ? { destination } : {}),
        dependencyMetadataLabel: (source) => compositeMetadataLabel(source, dependencies),
        dependencyPlatforms: (source) => compositeDefaultPlatforms(source, dependencies),
        include: (source, plan) =>
          includeCompositeLayers(source, plan, {
            ...dependencies,
            onWarning: (message) => ctx.output.warn(message),
          }),
        onEvent: (event: PackageEvent) => {
          if (event.type === "copy") progress.onEvent(event.event);
          else if (event.type === "dependency") progress.onDependency(event.event);
          else if (event.type === "pre-package")
            ctx.output.note(`running pre-package ${event.command} for ${event.targets}`);
          else if (event.type === "warning") {
            warned.add(event.message);
            ctx.output.warn(event.message);
          } else if (event.type === "image") {
            // Progress names each blob by the target it belongs to.
            const { key, manifest, layer, image } = event.image;
            names.add(manifest.digest, key, "manifest");
            names.add(layer.descriptor.digest, key, "layer");
            void image.manifest().then(
              (m) => names.addImage(key, manifest, m.config, m.layers, layer.descriptor.digest),
              () => undefined, // names are a courtesy; the write itself reports any real problem
            );
            ctx.output.detail(
              `built ${event.image.key}: ${plural(event.image.layers, "layer")}, ${plural(event.image.dependencies, "dependency", "dependencies")}`,
            );
          }
        },
      });
      if (!result.dryRun) {
        if (result.root) result.tags.push(...(await tagElsewhere(choice!, result.root, ctx, progress)));
        // Per-architecture tags are written outside the copy; the one "tagged" line lists them too.
        progress.tagged(result.tags);
      }
    } finally {
      progress.finish();
    }
    for (const warning of result.plan.warnings) if (!warned.has(warning)) ctx.output.warn(warning);
    for (const image of result.images) {
      const repaired = image.layerWrite.cacheRepaired;
      if (repaired > 0) {
        ctx.output.warn(
          `${repaired} layer cache ${repaired === 1 ? "entry" : "entries"} for ${image.key} did not match what they stand for; discarded and rebuilt`,
        );
      }
    }
    if (result.dryRun) {
      ctx.output.result(result.plan, renderPlan);
      return;
    }
    if (sbomTiming(choice!, flags.sbom) === "after") {
      sbomRows.push(...(await packageSbomsTo(name, choice!, result, ctx)));
    }
    reportSboms(ctx, choice!, flags.sbom, sbomRows);
    ctx.output.result(packageReport(name, choice!, result), renderReport);
  });
}

/** The `--json` shape of a finished package run. */
export interface PackageReport {
  name: string;
  destination: string;
  format: "file" | "layout" | "image";
  digest: string;
  mediaType: string;
  tags: string[];
  /** With --per-target-files: the file written for each target. */
  files?: string[];
  targets: {
    target: string;
    platform: string;
    digest: string;
    layerDiffID: string;
    /** How the buildpack's layer was made (see LayerWriteSummary). */
    layer: LayerWriteSummary;
    dependencies: number;
  }[];
  /** Which dependency versions exist for which targets, and what is missing where. */
  coverage: CoverageReport;
}

function packageReport(name: string, choice: OutputChoice, result: PackageResult): PackageReport {
  return {
    name,
    destination: choice.kind === "registry" ? choice.reference.name : choice.path,
    format: choice.kind === "registry" ? "image" : choice.kind,
    digest: result.root!.digest,
    mediaType: result.root!.mediaType,
    tags: result.tags,
    ...(result.files ? { files: result.files } : {}),
    targets: result.images.map((image) => ({
      target: image.key,
      platform: Platform.fromJSON(image.platform).toString(),
      digest: image.manifest.digest,
      layerDiffID: image.layerDiffID,
      layer: image.layerWrite,
      dependencies: image.dependencies,
    })),
    coverage: result.plan.coverage,
  };
}

/**
 * How a target's layer was made, in a word or three: "unchanged" (the destination already had it),
 * "new" (nothing from the cache), "from cache" (nothing compressed anew) or "3 of 24 pieces new"
 * (of the pieces that are compressed; incompressible pieces are stored as they are).
 */
export function describeLayer({ written, compressed, cacheHits }: LayerWriteSummary): string {
  if (!written) return "unchanged";
  if (cacheHits === 0) return "new";
  if (compressed === 0) return "from cache";
  return `${compressed} of ${compressed + cacheHits} pieces new`;
}

function renderReport(report: PackageReport): string {
  const table = renderTable(
    ["TARGET", "DIGEST", "LAYER", "DEPENDENCIES"],
    report.targets.map((t) => [
      t.target,
      shortDigest(t.digest),
      describeLayer(t.layer),
      String(t.dependencies),
    ]),
  );
  const at =
    report.format === "image"
      ? `${report.destination}@${report.digest}`
      : report.files
        ? report.files.join(", ")
        : `${report.destination} (${report.digest})`;
  const tags = report.tags.length > 0 ? `, tagged ${report.tags.join(", ")}` : "";
  const coverage = report.coverage.dependencies.flatMap((dependency) =>
    dependency.versions.map((v) => [dependency.id, v.version, v.targets.join(", ")]),
  );
  const coverageTable =
    coverage.length > 0 ? `\n\n${renderTable(["DEPENDENCY", "VERSION", "TARGETS"], coverage)}` : "";
  const what = report.files ? "files" : report.targets.length > 1 ? "index" : "image";
  return `${table}${coverageTable}\n\n${what} ${at}${tags}`;
}

/** A CycloneDX and an SPDX document per target (see `polypack sbom`), delivered to the output. */
async function packageSbomsTo(
  name: string,
  choice: OutputChoice,
  result: { plan: PackageResult["plan"]; images: readonly PackageResult["images"][number][] },
  ctx: CliContext,
): Promise<SbomRow[]> {
  const { packageSboms } = await import("../../sbom/package-sboms.js");
  return deliverSboms(choice, ctx, await packageSboms(result.plan, result.images, name));
}

async function openDestination(
  choice: OutputChoice,
  ctx: CliContext,
  archTags: boolean,
  perTargetFiles = false,
): Promise<PackageDestination> {
  if (choice.kind === "file" && perTargetFiles) {
    return { kind: "file", path: choice.path, refs: choice.refs, perTarget: true };
  }
  if (choice.kind !== "registry") return { kind: choice.kind, path: choice.path, refs: choice.refs };
  const { RegistryTarget } = await import("../../registry/target.js");
  const target = new RegistryTarget(await ctx.client(choice.reference.registry), choice.reference);
  return { kind: "target", target, tags: choice.tags, archTags };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...splitList(value)];
}

function describeDestination(choice: OutputChoice): string {
  return choice.kind === "registry"
    ? `${choice.reference.registry}/${choice.reference.repository}`
    : `${choice.kind} ${choice.path}`;
}
