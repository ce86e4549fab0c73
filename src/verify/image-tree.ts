import { posix } from "node:path";
import type { Layer } from "../image/blob.js";
import { peek } from "../layer/decompress.js";
import { readEntryContent, readLayer } from "../layer/read-layer.js";
import { scanArchive, HEAD_BYTES, type ArchiveScan } from "./archive.js";
import { classifyProgram, type ProgramKind } from "./elf.js";

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

/**
 * Reads each layer once, in order, streaming, and applies it to a tree: whiteouts delete what
 * earlier layers put there, opaque directories hide their earlier contents. Each regular file is
 * classified from its first bytes; archives are opened and their programs listed. A layer that
 * fails part way is recorded, and the next one is read all the same.
 */
export async function readImageTree(layers: readonly Layer[]): Promise<ImageTree> {
  const tree: ImageTree = { nodes: new Map(), descriptors: new Map(), layerProblems: [], files: 0 };
  for (const [index, layer] of layers.entries()) {
    try {
      await applyLayer(tree, index, layer);
    } catch (error) {
      tree.layerProblems.push({
        layer: index,
        digest: layer.descriptor.digest,
        problem: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return tree;
}

async function applyLayer(tree: ImageTree, index: number, layer: Layer): Promise<void> {
  const context = `layer ${index} (${layer.descriptor.digest})`;
  for await (const entry of readLayer(await layer.open(), { context })) {
    if (entry.path === ".") continue;
    const base = posix.basename(entry.path);
    const dir = posix.dirname(entry.path);
    if (base === ".wh..wh..opq") {
      removeUnder(tree, dir === "." ? "" : dir, (node) => node.layer < index);
      continue;
    }
    if (base.startsWith(".wh.")) {
      const hidden = dir === "." ? base.slice(4) : `${dir}/${base.slice(4)}`;
      tree.nodes.delete(hidden);
      removeUnder(tree, hidden, () => true);
      continue;
    }
    // Anything but a directory put where a directory was hides what lay below it.
    if (entry.type !== "directory" && tree.nodes.get(entry.path)?.type === "directory") {
      removeUnder(tree, entry.path, () => true);
    }
    switch (entry.type) {
      case "file": {
        tree.files++;
        if (DESCRIPTOR_PATH.test(entry.path)) {
          const text = (await readEntryContent(entry, MAX_DESCRIPTOR_BYTES)).toString("utf8");
          tree.descriptors.set(entry.path, text);
          tree.nodes.set(entry.path, { type: "file", layer: index });
          break;
        }
        tree.nodes.set(entry.path, await inspectFile(entry.content, index));
        break;
      }
      case "hardlink": {
        // The link shares the target's content, so it shares its verdict too.
        const target = tree.nodes.get(entry.linkname ?? "");
        tree.nodes.set(
          entry.path,
          target?.type === "file" ? { ...target, layer: index } : { type: "other", layer: index },
        );
        break;
      }
      case "symlink":
        tree.nodes.set(entry.path, { type: "symlink", layer: index, linkname: entry.linkname ?? "" });
        break;
      case "directory":
        tree.nodes.set(entry.path, { type: "directory", layer: index });
        break;
      default:
        tree.nodes.set(entry.path, { type: "other", layer: index });
    }
  }
}

async function inspectFile(content: AsyncIterable<Uint8Array>, layer: number): Promise<TreeNode> {
  const { head, rest } = await peek(content, HEAD_BYTES);
  const program = classifyProgram(head);
  if (program.kind === "elf" || program.kind === "foreign") {
    await (rest as AsyncGenerator<Uint8Array>).return?.(undefined);
    return { type: "file", layer, program };
  }
  const archive = await scanArchive(head, rest);
  if (archive === undefined) await (rest as AsyncGenerator<Uint8Array>).return?.(undefined);
  return archive === undefined ? { type: "file", layer } : { type: "file", layer, archive };
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
