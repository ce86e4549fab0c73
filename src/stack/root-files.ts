import { posix } from "node:path";
import { PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import { readEntryContent, readLayer } from "../layer/read-layer.js";

/** What an image's root file system holds at one path, after every layer is applied. */
export type RootEntry =
  | { type: "file"; content: Buffer; mode: number; uid: number; gid: number }
  | { type: "directory"; mode: number; uid: number; gid: number }
  | { type: "symlink"; linkname: string }
  | { type: "hardlink"; linkname: string }
  | { type: "other" };

/** The most bytes read of one of the small files asked for (/etc/passwd and the like). */
export const MAX_ROOT_FILE_BYTES = 4 * 1024 * 1024;

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const MAX_LINKS = 16;

/**
 * Reads a few paths of an image's root file system (clean relative paths such as `etc/passwd`) by
 * applying its layers in order, as a container runtime would: a later entry replaces an earlier
 * one; a whiteout `.wh.NAME` removes NAME (and what is below it) from the layers beneath, an opaque
 * marker `.wh..wh..opq` everything beneath in its directory; a non-directory replacing a directory
 * on the way to a path removes what was below it. Every layer is read (and checked against its
 * digest) once; file contents are kept only for the paths asked for, each capped.
 */
export async function readRootEntries(
  layers: readonly Pick<Layer, "open" | "descriptor">[],
  paths: readonly string[],
  name: string,
): Promise<Map<string, RootEntry>> {
  const wanted = new Set(paths);
  const ancestors = new Set(paths.flatMap(ancestorsOf));
  const found = new Map<string, RootEntry>();
  for (const [i, layer] of layers.entries()) {
    const context = `${name} layer ${i + 1} (${layer.descriptor.digest})`;
    const added = new Map<string, RootEntry>();
    const removed: string[] = [];
    const opaque: string[] = [];
    for await (const entry of readLayer(await layer.open(), { context })) {
      const base = posix.basename(entry.path);
      const dir = posix.dirname(entry.path);
      if (base === OPAQUE) {
        opaque.push(dir);
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        removed.push(dir === "." ? base.slice(WHITEOUT.length) : `${dir}/${base.slice(WHITEOUT.length)}`);
        continue;
      }
      // A non-directory on the way to a wanted path hides whatever was below it.
      if (ancestors.has(entry.path) && entry.type !== "directory") removed.push(`${entry.path}/`);
      if (!wanted.has(entry.path)) continue;
      added.set(entry.path, await rootEntry(entry, context));
    }
    // Whiteouts apply to the layers beneath, never to what the same layer adds.
    for (const path of [...found.keys()]) {
      const gone =
        removed.some((r) =>
          r.endsWith("/") ? path.startsWith(r) : path === r || path.startsWith(`${r}/`),
        ) || opaque.some((dir) => dir === "." || path.startsWith(`${dir}/`));
      if (gone) found.delete(path);
    }
    for (const [path, entry] of added) found.set(path, entry);
  }
  return found;
}

async function rootEntry(entry: Parameters<typeof readEntryContent>[0], context: string): Promise<RootEntry> {
  const owner = { mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid };
  switch (entry.type) {
    case "file":
      try {
        return { type: "file", content: await readEntryContent(entry, MAX_ROOT_FILE_BYTES), ...owner };
      } catch (error) {
        if (error instanceof PolypackError && error.code === "SIZE_EXCEEDED") {
          throw new PolypackError("SIZE_EXCEEDED", `${context}: ${error.message}`);
        }
        throw error;
      }
    case "directory":
      return { type: "directory", ...owner };
    case "symlink":
      return { type: "symlink", linkname: entry.linkname ?? "" };
    case "hardlink":
      return { type: "hardlink", linkname: entry.linkname ?? "" };
    default:
      return { type: "other" };
  }
}

/**
 * Where a symbolic link at `path` (or a hard link) leads inside the root: an absolute target from
 * the root, a relative one from the link's directory; `..` never climbs above the root.
 */
export function linkTarget(path: string, entry: { type: "symlink" | "hardlink"; linkname: string }): string {
  if (entry.type === "hardlink") return entry.linkname;
  const joined = entry.linkname.startsWith("/")
    ? entry.linkname
    : `/${posix.dirname(path)}/${entry.linkname}`;
  return posix.normalize(`/${joined}`).replace(/^\/+/, "");
}

/**
 * Reads the regular files at `paths` of an image's root file system, following links (within the
 * root, at most 16 in a row; a link leading to a path not yet read costs another pass over the
 * layers). A path that does not exist, or is not a file in the end, is left out of the answer.
 */
export async function readRootFiles(
  layers: readonly Pick<Layer, "open" | "descriptor">[],
  paths: readonly string[],
  name: string,
  extra: readonly string[] = [],
): Promise<{ files: Map<string, Extract<RootEntry, { type: "file" }>>; entries: Map<string, RootEntry> }> {
  const entries = await readRootEntries(layers, [...paths, ...extra], name);
  const files = new Map<string, Extract<RootEntry, { type: "file" }>>();
  for (const path of paths) {
    let at = path;
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
      let entry = entries.get(at);
      if (entry === undefined && hops > 0) {
        for (const [p, e] of await readRootEntries(layers, [at], name)) entries.set(p, e);
        entry = entries.get(at);
      }
      if (entry === undefined) break;
      if (entry.type === "file") {
        files.set(path, entry);
        break;
      }
      if (entry.type !== "symlink" && entry.type !== "hardlink") break;
      at = linkTarget(at, entry);
    }
  }
  return { files, entries };
}

function ancestorsOf(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(1).map((_part, i) => parts.slice(0, i + 1).join("/"));
}
