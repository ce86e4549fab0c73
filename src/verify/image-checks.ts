import { checkDescriptor } from "../buildpack/descriptor.js";
import type { BuildpackDescriptor } from "../buildpack/descriptor-types.js";
import { dependencyMatchesTarget } from "../buildpack/dependencies-filter.js";
import { parseModuleLayers } from "../buildpack/label-parse.js";
import {
  BUILDPACKAGE_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  EXTENSION_LAYERS_LABEL,
} from "../buildpack/labels.js";
import { BUILDER_METADATA_LABEL } from "../buildpack/labels.js";
import { platformsOverlap } from "../buildpack/targets.js";
import type { ImageConfig } from "../oci/manifest.js";
import { Platform } from "../oci/platform.js";
import { describeProgram, runsOn } from "./elf.js";
import type { Finding } from "./findings.js";
import { resolveInImage, type ImageTree } from "./image-tree.js";

/** Where a builder keeps the lifecycle's one binary (the phases are links to it). */
const LIFECYCLE_PATH = "cnb/lifecycle/lifecycle";

type Emit = (finding: Omit<Finding, "platform">) => void;

/** A module descriptor read from a layer, with the path it was found at. */
export interface LayerDescriptor {
  path: string;
  descriptor: BuildpackDescriptor;
}

/**
 * Every ELF, Mach-O or PE file (and every such member of an archive in a layer) that cannot run on
 * `platform`. Links to a finding's file are named in it, since that is how the file is reached.
 * Only executables and shared objects count: object files and core dumps run nowhere.
 */
export function checkPrograms(
  tree: ImageTree,
  platform: Platform,
  emit: Emit,
  descriptors: readonly LayerDescriptor[] = [],
): number {
  let programs = 0;
  const dependencyNames = offlineDependencyNames(descriptors);
  const expected = platform.toString();
  const linksTo = linkIndex(tree);
  for (const [path, node] of tree.nodes) {
    if (node.type !== "file") continue;
    if (node.program !== undefined) {
      programs++;
      if (!runsOn(node.program, platform) && isProgram(node.program)) {
        const links = linksTo.get(path);
        const via = links ? ` (linked from ${links.map((l) => `/${l}`).join(", ")})` : "";
        emit({ check: "program", subject: `/${path}${via}`, expected, found: describeProgram(node.program) });
      }
    }
    if (node.archive !== undefined) {
      programs += node.archive.programs.length;
      for (const member of node.archive.programs) {
        if (runsOn(member.kind, platform) || !isProgram(member.kind)) continue;
        emit({
          check: "dependency",
          subject: `/${path}!${member.path}${dependencyNames(path)}`,
          expected,
          found: describeProgram(member.kind),
        });
      }
      if (node.archive.problem !== undefined) {
        emit({
          check: "dependency",
          subject: `/${path}`,
          expected: `a readable ${node.archive.format} archive`,
          found: node.archive.problem,
        });
      }
    }
  }
  return programs;
}

// Offline dependencies sit in the layer under their sha256 (`dependencies/<hex>/...`); the name
// the buildpack.toml gives that checksum makes a finding readable.
function offlineDependencyNames(descriptors: readonly LayerDescriptor[]): (path: string) => string {
  const names = new Map<string, string>();
  for (const { descriptor } of descriptors) {
    for (const dependency of descriptor.metadata.dependencies) {
      if (dependency.checksum === undefined) continue;
      names.set(dependency.checksum.hex, `${dependency.id}@${dependency.version}`);
    }
  }
  return (path) => {
    const hex = /(?:^|\/)dependencies\/([0-9a-f]{64})(?:\/|$)/.exec(path)?.[1];
    const name = hex === undefined ? undefined : names.get(hex);
    return name === undefined ? "" : ` (dependency ${name})`;
  };
}

function isProgram(kind: Parameters<typeof runsOn>[0]): boolean {
  return kind.kind !== "elf" || kind.elf.type === "executable" || kind.elf.type === "shared";
}

function linkIndex(tree: ImageTree): Map<string, string[]> {
  const links = new Map<string, string[]>();
  for (const [path, node] of tree.nodes) {
    if (node.type !== "symlink") continue;
    const target = resolveInImage(tree, path);
    if (target === undefined) continue;
    const list = links.get(target) ?? [];
    list.push(path);
    links.set(target, list);
  }
  return links;
}

/** A layer that could not be read is a finding of its own: nothing in it was checked. */
export function checkLayers(tree: ImageTree, emit: Emit): void {
  for (const problem of tree.layerProblems) {
    emit({
      check: "layer",
      subject: `layer ${problem.layer} (${problem.digest})`,
      expected: "a complete layer matching its digest",
      found: problem.problem,
    });
  }
}

/** The config's os, architecture and variant agree with the index entry that names the image. */
export function checkConfigPlatform(config: ImageConfig, entry: Platform | undefined, emit: Emit): void {
  const configured = Platform.fromJSON({
    os: config.os ?? "",
    architecture: config.architecture ?? "",
    ...(config.variant ? { variant: config.variant } : {}),
  });
  if (configured.os === "" || configured.architecture === "") {
    emit({
      check: "metadata",
      subject: "config os/architecture",
      expected: entry?.toString() ?? "an os and an architecture",
      found: "none",
    });
    return;
  }
  if (entry === undefined) return;
  const same =
    configured.os === entry.os &&
    configured.architecture === entry.architecture &&
    configured.variant === entry.variant;
  if (!same) {
    emit({
      check: "metadata",
      subject: "config os/architecture/variant",
      expected: `${entry.toString()} (the index entry's platform)`,
      found: configured.toString(),
    });
  }
}

/**
 * The buildpack labels parse and agree with the layers: every layer the layers label names is one
 * of the image's diffIDs and holds the module's descriptor; the metadata label's id is among them;
 * the descriptors agree with their paths and the platform (targets, dependencies). A builder's
 * lifecycle is present. Returns the descriptors read, for the dependency check.
 */
export function checkLabelsAndDescriptors(
  config: ImageConfig,
  tree: ImageTree,
  platform: Platform,
  emit: Emit,
): LayerDescriptor[] {
  const labels = config.config?.Labels ?? {};
  const diffIDs = new Set((config.rootfs?.diff_ids ?? []).map(String));
  const descriptors = readDescriptors(tree, emit);
  for (const label of [BUILDPACK_LAYERS_LABEL, EXTENSION_LAYERS_LABEL]) {
    const text = labels[label];
    if (text === undefined) continue;
    let layers;
    try {
      layers = parseModuleLayers(text, `label ${label}`);
    } catch (error) {
      emit({ check: "metadata", subject: `label ${label}`, expected: "valid JSON", found: message(error) });
      continue;
    }
    const folder = label === EXTENSION_LAYERS_LABEL ? "extensions" : "buildpacks";
    for (const [id, versions] of Object.entries(layers)) {
      for (const [version, info] of Object.entries(versions)) {
        const subject = `label ${label}: ${id}@${version}`;
        if (!diffIDs.has(info.layerDiffID)) {
          emit({
            check: "metadata",
            subject,
            expected: "a layerDiffID among the config's diff_ids",
            found: info.layerDiffID,
          });
        }
        const dir = `cnb/${folder}/${id.replaceAll("/", "_")}/${version}`;
        const found = descriptors.find((d) => d.path.startsWith(`${dir}/`));
        if (found === undefined) {
          if (tree.layerProblems.length === 0 && (info.order ?? []).length === 0) {
            emit({
              check: "metadata",
              subject,
              expected: `/${dir}/${folder === "extensions" ? "extension" : "buildpack"}.toml in the layers`,
              found: "none",
            });
          }
        } else if (found.descriptor.info.id !== id || found.descriptor.info.version !== version) {
          emit({
            check: "metadata",
            subject: `/${found.path}`,
            expected: `${id}@${version} (the layers label)`,
            found: `${found.descriptor.info.id}@${found.descriptor.info.version}`,
          });
        }
      }
    }
  }
  checkMetadataLabel(labels, emit);
  for (const { path, descriptor } of descriptors) checkDescriptorPlatform(path, descriptor, platform, emit);
  if (labels[BUILDER_METADATA_LABEL] !== undefined) checkLifecycle(tree, platform, emit);
  return descriptors;
}

function readDescriptors(tree: ImageTree, emit: Emit): LayerDescriptor[] {
  const out: LayerDescriptor[] = [];
  for (const [path, text] of tree.descriptors) {
    if (!tree.nodes.has(path)) continue; // deleted by a later layer
    const kind = path.endsWith("/extension.toml") ? "extension" : "buildpack";
    const check = checkDescriptor(text, kind, { file: `/${path}` });
    if (check.descriptor === undefined) {
      emit({
        check: "metadata",
        subject: `/${path}`,
        expected: `a valid ${kind}.toml`,
        found: message(check.problems[0]),
      });
      continue;
    }
    out.push({ path, descriptor: check.descriptor });
  }
  return out;
}

function checkMetadataLabel(labels: Record<string, string>, emit: Emit): void {
  const text = labels[BUILDPACKAGE_METADATA_LABEL];
  if (text === undefined) return;
  try {
    const parsed: unknown = JSON.parse(text);
    const object = parsed as { id?: unknown; version?: unknown } | null;
    if (typeof object?.id !== "string" || object.id === "") {
      emit({
        check: "metadata",
        subject: `label ${BUILDPACKAGE_METADATA_LABEL}`,
        expected: "an id",
        found: "none",
      });
    }
  } catch (error) {
    emit({
      check: "metadata",
      subject: `label ${BUILDPACKAGE_METADATA_LABEL}`,
      expected: "valid JSON",
      found: message(error),
    });
  }
}

/**
 * A descriptor in this platform's image declares this platform among its targets (when it
 * declares any), and lists only dependencies this platform can use: an amd64-only entry in the
 * arm64 image means the per-target filtering went wrong.
 */
function checkDescriptorPlatform(
  path: string,
  descriptor: BuildpackDescriptor,
  platform: Platform,
  emit: Emit,
): void {
  const expected = platform.toString();
  if (
    descriptor.targets.length > 0 &&
    !descriptor.targets.some((t) => platformsOverlap(t.platform, platform))
  ) {
    emit({
      check: "metadata",
      subject: `/${path} [[targets]]`,
      expected,
      found: descriptor.targets.map((t) => t.platform.toString()).join(", "),
    });
  }
  for (const dependency of descriptor.metadata.dependencies) {
    if (dependencyMatchesTarget(dependency, platform)) continue;
    emit({
      check: "metadata",
      subject: `/${path} dependency ${dependency.id}@${dependency.version}`,
      expected,
      // An empty field of a dependency means any; `*` says so instead of leaving a gap.
      found: [dependency.os || "*", dependency.architecture || "*", dependency.variant]
        .filter(Boolean)
        .join("/"),
    });
  }
}

function checkLifecycle(tree: ImageTree, platform: Platform, emit: Emit): void {
  const resolved = resolveInImage(tree, LIFECYCLE_PATH);
  const node = resolved === undefined ? undefined : tree.nodes.get(resolved);
  if (node?.type !== "file") {
    emit({
      check: "metadata",
      subject: `/${LIFECYCLE_PATH}`,
      expected: `the lifecycle for ${platform.toString()}`,
      found: "none",
    });
  } else if (node.program === undefined) {
    emit({
      check: "metadata",
      subject: `/${LIFECYCLE_PATH}`,
      expected: `an ELF program for ${platform.toString()}`,
      found: "not a program",
    });
  }
  // A lifecycle for the wrong machine is a program finding already.
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
