import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseEndpoint, type Endpoint } from "../endpoints/endpoint.js";
import { PolypackError } from "../errors/index.js";
import { imageFor, readArtifact, type Artifact, type Image } from "../image/image.js";
import type { ContentSource } from "../oci/content.js";
import { Platform } from "../oci/platform.js";
import { makeScratchDir, removeScratchDir } from "../util/scratch-dir.js";
import {
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  EXTENSION_LAYERS_LABEL,
  type ModuleLayers,
} from "../buildpack/labels.js";
import { parseModuleLayers } from "../buildpack/label-parse.js";

/** The buildpack-bearing image `polypack test` runs, opened once for every target. */
export interface TestSource {
  /** What SRC names, for messages. */
  name: string;
  artifact: Artifact;
  /** Removes what opening made (the package of a folder). */
  close(): Promise<void>;
}

/** How to reach images and package folders: the command line wires these to its own code. */
export interface SourceHooks {
  openSource(endpoint: Endpoint): Promise<ContentSource>;
  /**
   * Packages a buildpack folder (with its package.toml when it has one, making composites work) or
   * a package.toml file for `targets` into an OCI layout at `layout`.
   */
  packageFolder(dir: string, layout: string, targets: readonly string[]): Promise<void>;
}

/**
 * Opens SRC: a buildpack folder (one holding buildpack.toml or package.toml) is packaged for the
 * targets into a temporary layout first, as `buildpack package` would; anything else is an image
 * location (`.cnb`, layout, reference).
 */
export async function openTestSource(
  src: string,
  targets: readonly Platform[],
  hooks: SourceHooks,
): Promise<TestSource> {
  if (isBuildpackFolder(src)) {
    const scratch = await makeScratchDir("polypack-test-package-");
    try {
      const layout = join(scratch, "layout");
      await hooks.packageFolder(
        src,
        layout,
        targets.map((t) => t.toString()),
      );
      const source = await hooks.openSource({ kind: "layout", path: layout });
      return {
        name: src,
        artifact: await readArtifact(source),
        close: () => removeScratchDir(scratch),
      };
    } catch (error) {
      await removeScratchDir(scratch);
      throw error;
    }
  }
  const source = await hooks.openSource(parseEndpoint(src));
  return { name: src, artifact: await readArtifact(source), close: () => Promise.resolve() };
}

// A folder holding buildpack.toml or package.toml, or a package.toml file itself.
function isBuildpackFolder(path: string): boolean {
  if (!existsSync(path)) return false;
  if (!statSync(path).isDirectory()) return basename(path) === "package.toml";
  return (
    existsSync(join(path, "buildpack.toml")) ||
    existsSync(join(path, "package.toml")) ||
    existsSync(join(path, "extension.toml"))
  );
}

/** The image an artifact holds for `platform`: the index's child, or the image itself if it fits. */
export async function imageForPlatform(artifact: Artifact, platform: Platform): Promise<Image | undefined> {
  if (artifact.kind === "index") return imageFor(artifact, platform);
  const config = await artifact.config();
  const own = new Platform({ os: config.os, architecture: config.architecture, variant: config.variant });
  return own.satisfies(platform) ? artifact : undefined;
}

/** The platforms an artifact has images for, in its order (its config's for a single image). */
export async function artifactPlatforms(artifact: Artifact): Promise<Platform[]> {
  if (artifact.kind === "image") {
    const config = await artifact.config();
    return [new Platform({ os: config.os, architecture: config.architecture, variant: config.variant })];
  }
  const platforms: Platform[] = [];
  for (const entry of await artifact.entries()) {
    const declared = entry.descriptor.platform;
    if (declared && declared.os !== "unknown") platforms.push(Platform.fromJSON(declared));
  }
  return platforms;
}

/** One buildpack of an order group, as the image names it. */
export interface GroupMember {
  id: string;
  version: string;
  optional: boolean;
  /** The Buildpack API it declares. */
  api: string;
}

/** What runs for one target: the groups to try in order, and whether the image is a builder. */
export interface RunOrder {
  kind: "buildpack" | "builder";
  /** The top buildpack (a package) or the builder, for the report. */
  label: string;
  groups: GroupMember[][];
  /** Whether each buildpack's `clear-env` is set (only known for a package's top buildpack). */
  clearEnv: Set<string>;
}

const BUILDER_METADATA_LABEL = "io.buildpacks.builder.metadata";
const ORDER_LABEL = "io.buildpacks.buildpack.order";

/**
 * Reads what to run from an image's labels: a builder's order (`io.buildpacks.buildpack.order`),
 * a composite package's order, or a single buildpack as a group of one. Each member's API comes
 * from the layers label. An extension package, or an image that is neither, is TEST_SOURCE_INVALID.
 */
export async function runOrder(image: Image, where: string): Promise<RunOrder> {
  const labels = (await image.config()).config?.Labels ?? {};
  if (labels[EXTENSION_LAYERS_LABEL] !== undefined && labels[BUILDPACK_LAYERS_LABEL] === undefined) {
    throw new PolypackError(
      "TEST_SOURCE_INVALID",
      `${where} is an image extension; polypack test runs buildpacks only`,
    );
  }
  const layersText = labels[BUILDPACK_LAYERS_LABEL];
  if (layersText === undefined) {
    throw new PolypackError(
      "TEST_SOURCE_INVALID",
      `${where} holds no buildpack: it has no ${BUILDPACK_LAYERS_LABEL} label`,
    );
  }
  const layers = parseModuleLayers(layersText, `${where} label ${BUILDPACK_LAYERS_LABEL}`);
  if (labels[BUILDER_METADATA_LABEL] !== undefined) {
    const order = parseOrder(labels[ORDER_LABEL] ?? "[]", `${where} label ${ORDER_LABEL}`);
    return {
      kind: "builder",
      label: where,
      groups: order.map((group) => group.map((entry) => member(layers, entry, where))),
      clearEnv: new Set(),
    };
  }
  const metadata = parseJsonObject(
    labels[BUILDPACKAGE_METADATA_LABEL] ?? "",
    `${where} label ${BUILDPACKAGE_METADATA_LABEL}`,
  );
  const id = typeof metadata["id"] === "string" ? metadata["id"] : "";
  const version = typeof metadata["version"] === "string" ? metadata["version"] : "";
  const info = layers[id]?.[version];
  if (info === undefined) {
    throw new PolypackError(
      "TEST_SOURCE_INVALID",
      `${where}: the package's buildpack ${id}@${version} is not in its ${BUILDPACK_LAYERS_LABEL} label`,
    );
  }
  const clearEnv = new Set<string>(metadata["clear-env"] === true ? [`${id}@${version}`] : []);
  if (info.order && info.order.length > 0) {
    return {
      kind: "buildpack",
      label: `${id}@${version}`,
      groups: info.order.map(({ group }) =>
        group.map((entry) =>
          member(
            layers,
            { id: entry.id, version: entry.version ?? "", optional: entry.optional ?? false },
            where,
          ),
        ),
      ),
      clearEnv,
    };
  }
  return {
    kind: "buildpack",
    label: `${id}@${version}`,
    groups: [[{ id, version, optional: false, api: info.api }]],
    clearEnv,
  };
}

function member(
  layers: ModuleLayers,
  entry: { id: string; version: string; optional: boolean },
  where: string,
): GroupMember {
  const versions = layers[entry.id] ?? {};
  // An order entry may leave the version out when the image holds only one.
  const version = entry.version || (Object.keys(versions).length === 1 ? Object.keys(versions)[0]! : "");
  const info = versions[version];
  if (info === undefined) {
    throw new PolypackError(
      "TEST_SOURCE_INVALID",
      `${where}: the order names ${entry.id}${entry.version ? `@${entry.version}` : ""}, which the image does not hold`,
    );
  }
  if (info.order && info.order.length > 0) {
    throw new PolypackError(
      "TEST_SOURCE_INVALID",
      `${where}: ${entry.id}@${version} is itself a composite inside an order; polypack test runs one level of groups`,
    );
  }
  return { id: entry.id, version, optional: entry.optional, api: info.api };
}

function parseOrder(text: string, where: string): { id: string; version: string; optional: boolean }[][] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PolypackError("TEST_SOURCE_INVALID", `${where} is not JSON`);
  }
  if (!Array.isArray(value))
    throw new PolypackError("TEST_SOURCE_INVALID", `${where} is not a list of groups`);
  return value.map((entry) => {
    const group = (entry as { group?: unknown }).group;
    if (!Array.isArray(group))
      throw new PolypackError("TEST_SOURCE_INVALID", `${where}: a group has no entries`);
    return group.map((ref) => {
      const r = ref as Record<string, unknown>;
      if (typeof r["id"] !== "string")
        throw new PolypackError("TEST_SOURCE_INVALID", `${where}: a group entry has no id`);
      return {
        id: r["id"],
        version: typeof r["version"] === "string" ? r["version"] : "",
        optional: r["optional"] === true,
      };
    });
  });
}

function parseJsonObject(text: string, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new PolypackError("TEST_SOURCE_INVALID", `${where} is missing or not a JSON object`);
}
