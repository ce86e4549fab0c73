import type { Artifact, Image } from "../image/image.js";
import { Platform } from "../oci/platform.js";
import { PolypackError } from "../errors/index.js";
import { checkDependencies, type DependencyDownloads } from "./dependencies-check.js";
import { allowMatcher, type Finding, type PlatformSummary, type VerifyReport } from "./findings.js";
import {
  checkConfigPlatform,
  checkLabelsAndDescriptors,
  checkLayers,
  checkPrograms,
} from "./image-checks.js";
import { readImageTree, type LayerScans } from "./image-tree.js";
import { checkRunImages, type RunImageResolver } from "./run-images.js";
import { BUILDER_METADATA_LABEL } from "../buildpack/labels.js";

/** Options of `verifyArtifact`. */
export interface VerifyOptions {
  /** What to call the artifact in the report (a reference, a path). */
  name?: string;
  /** Check only the images of these platforms (default: every platform). */
  platforms?: readonly Platform[];
  /** `--allow` patterns: files meant to be foreign (see allowMatcher); reported, not failed. */
  allow?: readonly string[];
  /** Fetch and check every dependency the descriptors list (`--dependencies`). */
  dependencies?: DependencyDownloads;
  /**
   * Scans of layers this run has already read as it wrote them, by layer digest (see
   * scanLayerTar); those layers are not read again.
   */
  scans?: LayerScans;
  /**
   * Reads a builder's run images (through the caller's registry access) to check each has the
   * platform; without it, builders' run images are not checked and a note says so.
   */
  runImages?: RunImageResolver;
  /** Told as each platform's image is about to be read. */
  onPlatform?: (platform: string) => void;
}

/**
 * Verifies an image, an index, a builder or a buildpackage, platform by platform: each programme
 * in each platform's layers (and in archives there) is built for that platform; configs agree with
 * their index entries; labels agree with layers and descriptors; descriptors list only that
 * platform's targets and dependencies; builders have their lifecycle. With `dependencies`, every
 * dependency is fetched through the download cache and its archive checked too. Each layer is read
 * once, streaming. Never throws for what it finds: findings are the report.
 *
 * This is the one check `buildpack package`, `extension package` and (their authors calling it)
 * `builder create`, `manifest create` and `manifest push` run before they write; see
 * `requireVerified` for the form that throws.
 */
export async function verifyArtifact(artifact: Artifact, options: VerifyOptions = {}): Promise<VerifyReport> {
  const root = await artifact.descriptor();
  const name = options.name ?? root.digest;
  const findings: Finding[] = [];
  const platforms: PlatformSummary[] = [];
  const notes: string[] = [];
  const images = await platformImages(artifact, name, (finding) => findings.push(finding));
  const runImages = memoized(options.runImages);
  let builder = false;
  const wanted = options.platforms ?? [];
  for (const { image, platform } of images) {
    if (wanted.length > 0 && !wanted.some((w) => platform !== undefined && platform.satisfies(w))) continue;
    const summary = await verifyImage(image, platform, { ...options, runImages }, (finding) => {
      findings.push(finding);
    });
    builder ||= summary.builder === true;
    delete summary.builder;
    platforms.push(summary);
  }
  if (wanted.length > 0 && platforms.length === 0) {
    findings.push({
      platform: name,
      check: "metadata",
      subject: "platforms",
      expected: wanted.map((p) => p.toString()).join(", "),
      found: images.map((i) => i.platform?.toString() ?? "(none)").join(", ") || "none",
    });
  }
  if (options.dependencies === undefined) {
    notes.push(
      "dependencies listed in buildpack.toml were not fetched (use --dependencies); those in the layers were checked",
    );
  }
  if (builder && options.runImages === undefined) {
    notes.push("the builder's run images were not read, so not checked for each platform");
  }
  const allowed = allowMatcher(options.allow ?? []);
  for (const finding of findings) {
    if (finding.check !== "program" && finding.check !== "dependency") continue;
    const path = finding.subject.replace(/ \((linked from|dependency) .*\)$/, "");
    const pattern = allowed(path) ?? allowed(path.split("!").pop() ?? path);
    if (pattern !== undefined) finding.allowed = pattern;
  }
  return {
    name,
    digest: root.digest,
    ok: findings.every((f) => f.allowed !== undefined),
    platforms,
    findings,
    notes,
  };
}

/**
 * Verifies and throws VERIFY_FAILED naming the first platform and file at fault when anything not
 * allowed was found; returns the report otherwise (its allowed findings are for the caller to say).
 */
export async function requireVerified(
  artifact: Artifact,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const report = await verifyArtifact(artifact, options);
  if (!report.ok) throw verifyFailed(report);
  return report;
}

/** The VERIFY_FAILED error for a report with findings: every one listed, the first in the message. */
export function verifyFailed(report: VerifyReport): PolypackError {
  const failing = report.findings.filter((f) => f.allowed === undefined);
  const lines = failing.map((f) => `  ${f.platform}: ${f.subject}: expected ${f.expected}, found ${f.found}`);
  return new PolypackError(
    "VERIFY_FAILED",
    `${report.name} failed verification with ${failing.length} finding${failing.length === 1 ? "" : "s"}:\n${lines.join("\n")}`,
  );
}

/** One platform's image of an artifact. */
export interface PlatformImage {
  image: Image;
  /** The index entry's platform; for a lone image, its config's. */
  platform: Platform | undefined;
  /** Whether the platform came from an index entry (so the config must agree with it). */
  fromIndex: boolean;
}

/**
 * The images of an index, nested indexes flattened; entries that are not images for a platform
 * (attestations with platform unknown/unknown, artifacts) are left out. An entry without a
 * platform is reported through `emit`.
 */
export async function platformImages(
  artifact: Artifact,
  name: string,
  emit: (finding: Finding) => void,
): Promise<PlatformImage[]> {
  if (artifact.kind === "image") {
    const config = await artifact.config().catch(() => undefined);
    const platform = config?.os && config.architecture ? Platform.fromJSON(config) : undefined;
    return [{ image: artifact, platform, fromIndex: false }];
  }
  const out: PlatformImage[] = [];
  for (const entry of await artifact.entries()) {
    const json = entry.descriptor.platform;
    if (json?.os === "unknown" || json?.architecture === "unknown") continue;
    const loaded = await entry.load();
    if (loaded.kind === "index") {
      out.push(...(await platformImages(loaded, name, emit)));
      continue;
    }
    if (json === undefined) {
      emit({
        platform: name,
        check: "metadata",
        subject: `index entry ${entry.descriptor.digest}`,
        expected: "a platform",
        found: "none",
      });
    }
    out.push({
      image: loaded,
      platform: json ? Platform.fromJSON(json) : undefined,
      fromIndex: json !== undefined,
    });
  }
  return out;
}

async function verifyImage(
  image: Image,
  platform: Platform | undefined,
  options: VerifyOptions,
  push: (finding: Finding) => void,
): Promise<PlatformSummary & { builder?: boolean }> {
  const digest = (await image.descriptor()).digest;
  const label = platform?.toString() ?? digest;
  options.onPlatform?.(label);
  const emit = (finding: Omit<Finding, "platform">): void => push({ platform: label, ...finding });
  const summary: PlatformSummary & { builder?: boolean } = {
    platform: label,
    digest,
    layers: 0,
    files: 0,
    programs: 0,
    dependencies: 0,
  };
  let config;
  let layers;
  try {
    config = await image.config();
    layers = await image.layers();
  } catch (error) {
    emit({
      check: "metadata",
      subject: "config",
      expected: "a readable image config",
      found: message(error),
    });
    return summary;
  }
  checkConfigPlatform(config, platform, emit);
  const effective = platform ?? Platform.fromJSON(config);
  summary.layers = layers.length;
  const tree = await readImageTree(layers, options.scans ? { scans: options.scans } : {});
  summary.files = tree.files;
  checkLayers(tree, emit);
  const descriptors = checkLabelsAndDescriptors(config, tree, effective, emit);
  summary.programs = checkPrograms(tree, effective, emit, descriptors);
  const builderLabel = config.config?.Labels?.[BUILDER_METADATA_LABEL];
  if (builderLabel !== undefined) {
    summary.builder = true;
    if (options.runImages !== undefined)
      await checkRunImages(builderLabel, effective, options.runImages, emit);
  }
  if (options.dependencies !== undefined) {
    summary.dependencies = await checkDependencies(descriptors, effective, options.dependencies, emit);
  }
  return summary;
}

// Each run image is read once, however many platforms ask for it.
function memoized(resolve: RunImageResolver | undefined): RunImageResolver | undefined {
  if (resolve === undefined) return undefined;
  const seen = new Map<string, ReturnType<RunImageResolver>>();
  return (reference) => {
    let artifact = seen.get(reference);
    if (artifact === undefined) {
      artifact = resolve(reference);
      seen.set(reference, artifact);
    }
    return artifact;
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
