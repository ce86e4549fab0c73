import { posix } from "node:path";
import { PassThrough } from "node:stream";
import type { Layer } from "../image/blob.js";
import { peek } from "../layer/decompress.js";
import { readEntryContent, readLayer, type LayerReadEntry } from "../layer/read-layer.js";
import { scanArchive, HEAD_BYTES, type ArchiveScan } from "./archive.js";
import { classifyProgram, withArmLevel, type ProgramKind } from "./elf.js";

/** The largest descriptor file (buildpack.toml, extension.toml) read from a layer. */
const MAX_DESCRIPTOR_BYTES = 1024 * 1024;

/** Where module descriptors sit in a buildpackage or builder layer. */
const DESCRIPTOR_PATH = /^cnb\/(buildpacks|extensions)\/[^/]+\/[^/]+\/(buildpack|extension)\.toml$/;

/** One path of the image's file system, as the last layer that touched it left it. */
export type TreeNode =
  | {
      type: "file";
      layer: number;
      /** Set for ELF, Mach-O and PE files only. */
      program?: ProgramKind;
      /** Set when the file is an archive verify could read (an offline dependency, a jar). */
      archive?: ArchiveScan;
    }
  | { type: "symlink"; layer: number; linkname: string }
  | { type: "directory" | "other"; layer: number };

/** A layer that could not be read to its end (truncated, corrupt, not matching its digest). */
export interface LayerProblem {
  layer: number;
  digest: string;
  problem: string;
}

/** The image's file system after every layer is applied, with what the checks need of it. */
export interface ImageTree {
  nodes: Map<string, TreeNode>;
  /** buildpack.toml and extension.toml files, by path. */
  descriptors: Map<string, string>;
  layerProblems: LayerProblem[];
  /** Regular files read, in every layer (archives' members not counted). */
  files: number;
}

/** What one layer does to the file system, in order: read once, applied to a tree later. */
export type LayerOp =
  | { op: "opaque"; dir: string }
  | { op: "whiteout"; path: string }
  | { op: "hardlink"; path: string; linkname: string }
  | { op: "put"; path: string; node: NodeKind; descriptor?: string };

/** A tree node without the layer that put it there. */
type NodeKind = DistributiveOmit<TreeNode, "layer">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * One layer read to its end, or as far as it could be read: what it does to the tree, the regular
 * files it holds, and why it stopped early when it did. It depends only on the layer's bytes.
 */
export interface LayerScan {
  ops: LayerOp[];
  files: number;
  problem?: string;
}

/** Options of readImageTree. */
export interface ImageTreeOptions {
  /**
   * Scans of layers already read in this run, by layer digest: a packaging run scans each layer
   * from the very tar bytes it hashes as it writes it (see scanLayerTar), so verifying before
   * delivery need not read the layer back.
   */
  scans?: LayerScans;
}

/** Scans of layers already made in this run, looked up by layer digest (a Map will do). */
export type LayerScans = Pick<ReadonlyMap<string, Promise<LayerScan>>, "get">;

/**
 * Scans of `layers` made on first use and kept, for a run that reads the same layers more than
 * once (a builder's layers are verified, then described in its SBOMs): pass it as `scans` to each
 * readImageTree, and each layer is read once. A layer that cannot be opened gives a scan with a
 * problem, as readImageTree records one.
 */
export function sharedScans(layers: readonly Layer[]): LayerScans {
  const made = new Map<string, Promise<LayerScan>>();
  return {
    get(digest) {
      const index = layers.findIndex((layer) => layer.descriptor.digest === digest);
      if (index < 0) return undefined;
      let scan = made.get(digest);
      if (scan === undefined) {
        const context = `layer ${index} (${digest})`;
        scan = layers[index]!.open().then(
          (source) => scanLayer(source, context),
          (error: unknown): LayerScan => ({ ops: [], files: 0, problem: message(error) }),
        );
        made.set(digest, scan);
      }
      return scan;
    },
  };
}

/**
 * Reads each layer once, in order, streaming, and applies it to a tree: whiteouts delete what
 * earlier layers put there, opaque directories hide their earlier contents. Each regular file is
 * classified from its first bytes; archives are opened and their programs listed. A layer that
 * fails part way is recorded, and the next one is read all the same.
 */
export async function readImageTree(
  layers: readonly Layer[],
  options: ImageTreeOptions = {},
): Promise<ImageTree> {
  const tree: ImageTree = { nodes: new Map(), descriptors: new Map(), layerProblems: [], files: 0 };
  for (const [index, layer] of layers.entries()) {
    const digest = layer.descriptor.digest;
    const context = `layer ${index} (${digest})`;
    const scan =
      (await options.scans?.get(digest)) ??
      (await layer.open().then(
        (source) => scanLayer(source, context),
        (error: unknown) => ({ ops: [], files: 0, problem: message(error) }),
      ));
    applyScan(tree, index, scan);
    if (scan.problem !== undefined) tree.layerProblems.push({ layer: index, digest, problem: scan.problem });
  }
  return tree;
}

/**
 * Reads a layer (compressed or not) to its end and records what it does. Never throws: a layer
 * that cannot be read to its end keeps the operations read so far and says why in `problem`.
 */
export async function scanLayer(
  source: AsyncIterable<Uint8Array>,
  context: string,
  compression: "gzip" | "none" | "auto" = "auto",
): Promise<LayerScan> {
  const scan: LayerScan = { ops: [], files: 0 };
  try {
    for await (const entry of readLayer(source, { context, compression })) {
      await scanEntry(scan, entry);
    }
  } catch (error) {
    scan.problem = message(error);
  }
  return scan;
}

/**
 * A scanner fed by a layer writer (LayerOptions.tarTap): write the uncompressed tar into `input`
 * as it is produced, and `result` is its scan. It keeps accepting bytes after the scan has ended
 * or failed, so it never stalls the writer; a writer that fails destroys `input`.
 */
export function scanLayerTar(context: string): { input: PassThrough; result: Promise<LayerScan> } {
  const input = new PassThrough();
  const source = input.iterator({ destroyOnReturn: false });
  const result = scanLayer(source, context, "none").finally(() => input.resume());
  return { input, result };
}

async function scanEntry(scan: LayerScan, entry: LayerReadEntry): Promise<void> {
  if (entry.path === ".") return;
  const base = posix.basename(entry.path);
  const dir = posix.dirname(entry.path);
  if (base === ".wh..wh..opq") {
    scan.ops.push({ op: "opaque", dir: dir === "." ? "" : dir });
    return;
  }
  if (base.startsWith(".wh.")) {
    scan.ops.push({ op: "whiteout", path: dir === "." ? base.slice(4) : `${dir}/${base.slice(4)}` });
    return;
  }
  const put = (node: NodeKind, descriptor?: string): void => {
    scan.ops.push({ op: "put", path: entry.path, node, ...(descriptor !== undefined ? { descriptor } : {}) });
  };
  switch (entry.type) {
    case "file": {
      scan.files++;
      if (DESCRIPTOR_PATH.test(entry.path)) {
        put({ type: "file" }, (await readEntryContent(entry, MAX_DESCRIPTOR_BYTES)).toString("utf8"));
        break;
      }
      put(await inspectFile(entry.content));
      break;
    }
    case "hardlink":
      scan.ops.push({ op: "hardlink", path: entry.path, linkname: entry.linkname ?? "" });
      break;
    case "symlink":
      put({ type: "symlink", linkname: entry.linkname ?? "" });
      break;
    case "directory":
      put({ type: "directory" });
      break;
    default:
      put({ type: "other" });
  }
}

/** Applies a layer's operations to the tree, as the container runtime would apply the layer. */
function applyScan(tree: ImageTree, index: number, scan: LayerScan): void {
  tree.files += scan.files;
  for (const op of scan.ops) {
    switch (op.op) {
      case "opaque":
        removeUnder(tree, op.dir, (node) => node.layer < index);
        break;
      case "whiteout":
        tree.nodes.delete(op.path);
        removeUnder(tree, op.path, () => true);
        break;
      case "hardlink": {
        hideDirectory(tree, op.path);
        // The link shares the target's content, so it shares its verdict too.
        const target = tree.nodes.get(op.linkname);
        tree.nodes.set(
          op.path,
          target?.type === "file" ? { ...target, layer: index } : { type: "other", layer: index },
        );
        break;
      }
      case "put":
        if (op.node.type !== "directory") hideDirectory(tree, op.path);
        tree.nodes.set(op.path, { ...op.node, layer: index });
        if (op.descriptor !== undefined) tree.descriptors.set(op.path, op.descriptor);
        break;
    }
  }
}

// Anything but a directory put where a directory was hides what lay below it.
function hideDirectory(tree: ImageTree, path: string): void {
  if (tree.nodes.get(path)?.type === "directory") removeUnder(tree, path, () => true);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function inspectFile(content: AsyncIterable<Uint8Array>): Promise<NodeKind> {
  const { head, rest } = await peek(content, HEAD_BYTES);
  const kind = classifyProgram(head);
  if (kind.kind === "elf" || kind.kind === "foreign") {
    // Only 32-bit ARM files are read on, for their architecture level.
    const program = await withArmLevel(kind, rest);
    await (rest as AsyncGenerator<Uint8Array>).return?.(undefined);
    return { type: "file", program };
  }
  const archive = await scanArchive(head, rest);
  if (archive === undefined) await (rest as AsyncGenerator<Uint8Array>).return?.(undefined);
  return archive === undefined ? { type: "file" } : { type: "file", archive };
}

function removeUnder(tree: ImageTree, dir: string, which: (node: TreeNode) => boolean): void {
  const prefix = dir === "" ? "" : `${dir}/`;
  for (const [path, node] of tree.nodes) {
    if (path.startsWith(prefix) && path !== dir && which(node)) tree.nodes.delete(path);
  }
}

/**
 * Follows symbolic links inside the image, as the container would: absolute targets from the
 * image's root, relative ones from the link's directory, `..` stopping at the root. Returns the
 * path reached, or undefined for a dangling link or a loop.
 */
export function resolveInImage(tree: ImageTree, path: string): string | undefined {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const resolved = resolveParents(tree, current);
    if (resolved === undefined) return undefined;
    const node = tree.nodes.get(resolved);
    if (node === undefined) return undefined;
    if (node.type !== "symlink") return resolved;
    current = joinInRoot(posix.dirname(resolved), node.linkname);
  }
  return undefined;
}

// Resolves links among a path's directories (not the last part), so `lib -> usr/lib` is followed.
function resolveParents(tree: ImageTree, path: string): string | undefined {
  const parts = path.split("/");
  let done = "";
  for (let i = 0; i < parts.length - 1; i++) {
    const next = done === "" ? parts[i]! : `${done}/${parts[i]!}`;
    const node = tree.nodes.get(next);
    if (node?.type === "symlink") {
      const target = resolveInImage(tree, next);
      if (target === undefined) return undefined;
      done = target;
    } else {
      done = next;
    }
  }
  const last = parts[parts.length - 1]!;
  return done === "" ? last : `${done}/${last}`;
}

function joinInRoot(dir: string, linkname: string): string {
  const joined = linkname.startsWith("/") ? linkname : `${dir === "." ? "" : dir}/${linkname}`;
  // Normalising from the root keeps `..` from climbing out of the image.
  return posix.normalize(`/${joined}`).replace(/^\/+/, "");
}
