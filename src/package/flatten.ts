import { createHash, type Hash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import { spooledLayer, type Layer } from "../image/blob.js";
import type { LayerSpool } from "../image/spool.js";
import { decompressed } from "../layer/decompress.js";
import { DEFAULT_GZIP_LEVEL } from "../layer/gzip.js";
import { defaultParallelism, emptyMemberStats, gzipMembers } from "../layer/parallel-gzip.js";
import { DEFAULT_MEMBER_SIZE } from "../layer/segment-plan.js";
import { END_OF_ARCHIVE } from "../layer/tar-format.js";
import { MediaType } from "../oci/media-types.js";
import type { ModuleLayers } from "../buildpack/labels.js";
import { tempPathBeside } from "../util/fs.js";
import { escapeId } from "./plan.js";
import { rawTarEntries } from "./raw-tar.js";

/** pack's `--flatten` and `--flatten-exclude`. */
export interface FlattenOptions {
  /** Modules that keep their own layer, as `<id>@<version>`. */
  exclude?: readonly string[];
  /** Where the modules live: `/cnb/buildpacks` (default) or `/cnb/extensions`. */
  parent?: "/cnb/buildpacks" | "/cnb/extensions";
}

/** A package's layers after flattening, with the label entries pointing at them. */
export interface FlattenedLayers {
  layers: Layer[];
  moduleLayers: ModuleLayers;
  /** What the user should hear (an exclusion that names no module, say). */
  warnings: string[];
}

/**
 * Puts the modules of a composite package into one layer, as pack's `--flatten` does: each
 * module's layer tar is copied entry by entry, in layer order (the dependencies, then the
 * composite itself), leaving out a `/cnb/buildpacks/<id>` (or extensions) directory an earlier module already
 * wrote (two versions of one id), and every flattened module's label entry gets the new layer's
 * diffID. Modules named in `exclude` keep their own layer, where it was. Every layer read is
 * checked against its digest and its diffID. The flattened layer is written into the spool.
 */
export async function flattenLayers(
  layers: readonly Layer[],
  moduleLayers: ModuleLayers,
  spool: LayerSpool,
  options: FlattenOptions = {},
): Promise<FlattenedLayers> {
  const modules = Object.entries(moduleLayers).flatMap(([id, versions]) =>
    Object.entries(versions).map(([version, info]) => ({ id, version, diffID: info.layerDiffID })),
  );
  const exclude = new Set(options.exclude ?? []);
  const warnings = [...exclude]
    .filter((name) => !modules.some((m) => `${m.id}@${m.version}` === name))
    .map((name) => `--flatten-exclude ${name} names no module of the package; it has no effect`);
  // A layer stays apart only when every module in it is excluded (a layer may hold several).
  const apart = new Set(
    layers
      .map((layer) => layer.diffID)
      .filter((diffID) => {
        const inside = modules.filter((m) => m.diffID === diffID);
        return inside.length > 0 && inside.every((m) => exclude.has(`${m.id}@${m.version}`));
      }),
  );
  for (const m of modules) {
    if (exclude.has(`${m.id}@${m.version}`) && !apart.has(m.diffID)) {
      warnings.push(
        `${m.id}@${m.version} shares its layer with modules being flattened; it is flattened too`,
      );
    }
  }
  const merged = layers.filter((layer) => !apart.has(layer.diffID));
  if (merged.length <= 1) return { layers: [...layers], moduleLayers, warnings };
  const flat = await writeFlatLayer(merged, modules, spool, options.parent ?? "/cnb/buildpacks");
  const result: Layer[] = [];
  for (const layer of layers) {
    if (apart.has(layer.diffID)) result.push(layer);
    else if (!result.includes(flat)) result.push(flat);
  }
  const relabelled: ModuleLayers = structuredClone(moduleLayers);
  for (const m of modules) {
    if (!apart.has(m.diffID)) relabelled[m.id]![m.version]!.layerDiffID = flat.diffID;
  }
  return { layers: result, moduleLayers: relabelled, warnings };
}

async function writeFlatLayer(
  layers: readonly Layer[],
  modules: readonly { id: string; diffID: string }[],
  spool: LayerSpool,
  parent: string,
): Promise<Layer> {
  const path = join(
    spool.dir,
    `flattened-${createHash("sha256")
      .update(layers.map((l) => l.diffID).join())
      .digest("hex")
      .slice(0, 16)}`,
  );
  const temp = tempPathBeside(path);
  const diff = createHash("sha256");
  const blob = createHash("sha256");
  let size = 0;
  async function* tar(): AsyncGenerator<Buffer> {
    const rootsWritten = new Set<string>();
    for (const layer of layers) {
      const roots = modules
        .filter((m) => m.diffID === layer.diffID)
        .map((m) => `${parent}/${escapeId(m.id)}`);
      yield* checkedEntries(layer, (name) => !rootsWritten.has(name));
      for (const root of roots) rootsWritten.add(root);
    }
    yield END_OF_ARCHIVE;
  }
  async function* hashed(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      if (hash === blob) size += chunk.length;
      yield chunk;
    }
  }
  const members = gzipMembers(
    pieces(hashed(tar(), diff), DEFAULT_MEMBER_SIZE),
    { level: DEFAULT_GZIP_LEVEL, parallelism: defaultParallelism() },
    emptyMemberStats(),
  );
  try {
    const file = await open(temp, "w", 0o644);
    await pipeline(hashed(members, blob), file.createWriteStream());
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const descriptor = {
    mediaType: MediaType.ociLayerGzip,
    digest: `sha256:${blob.digest("hex")}`,
    size,
  };
  return spooledLayer(descriptor, `sha256:${diff.digest("hex")}`, path);
}

/**
 * The entries of a layer's tar, as rawTarEntries gives them, after its blob is checked against its
 * digest (by `open`) and its tar against its diffID: a layer that is not what its image says fails
 * with DIGEST_MISMATCH before the flattened layer is used.
 */
async function* checkedEntries(layer: Layer, keep: (name: string) => boolean): AsyncGenerator<Buffer> {
  const context = `layer ${layer.diffID}`;
  const hash = createHash("sha256");
  async function* tapped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const tar = tapped(await decompressed(await layer.open(), "auto"));
  yield* rawTarEntries(tar, keep, context);
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== layer.diffID) {
    throw new PolypackError(
      "DIGEST_MISMATCH",
      `${context} uncompresses to ${actual}, not the diffID its image records`,
      { hint: "the dependency's image is damaged; package or push it again" },
    );
  }
}

/** The bytes of `source` in pieces of exactly `size` bytes (the last shorter), for gzip members. */
async function* pieces(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    let rest = chunk;
    while (length + rest.length >= size) {
      const take = size - length;
      held.push(rest.subarray(0, take));
      yield Buffer.concat(held);
      rest = rest.subarray(take);
      held = [];
      length = 0;
    }
    if (rest.length > 0) {
      held.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(held);
}
