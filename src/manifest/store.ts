import { lstat, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { parseEndpoint } from "../endpoints/endpoint.js";
import { PolypackError } from "../errors/index.js";
import { encodeJSON, MAX_MANIFEST_BYTES, parseManifest, type ImageIndex } from "../oci/manifest.js";
import { isImageMediaType } from "../oci/media-types.js";
import { Reference } from "../registry/reference.js";
import { writeFileAtomic } from "../util/fs.js";

/**
 * An index kept in the local index store: the index exactly as `manifest push` will write it, and
 * where each child manifest lives, so push can fetch the children and their blobs (mounting them
 * when they live in another repository of the index's registry). Child manifests and blobs are
 * not copied here; push reads them from their locations and checks every one against its digest.
 */
export interface StoredIndex {
  /** The index's reference, as `canonicalIndexName` gives it. */
  name: string;
  index: ImageIndex;
  /**
   * Where each child lives, by digest: a registry repository (`registry/repo`, read by digest), or
   * an absolute `oci:DIR` or `oci-archive:FILE`.
   */
  locations: Record<string, string>;
}

const SCHEMA_VERSION = 1;
// An index record holds one index and a location per child: well under twice an index's cap.
const MAX_RECORD_BYTES = 2 * MAX_MANIFEST_BYTES;

/**
 * Where the local index store lives: `$POLYPACK_HOME/manifests`, else
 * `$XDG_DATA_HOME/polypack/manifests`, else `~/.local/share/polypack/manifests`. Empty values count
 * as unset, and a relative XDG_DATA_HOME is ignored, as the XDG base directory specification asks.
 */
export function defaultIndexStoreDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const own = env["POLYPACK_HOME"];
  if (own !== undefined && own !== "") return join(resolve(own), "manifests");
  const xdg = env["XDG_DATA_HOME"];
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "polypack", "manifests");
  return join(home, ".local", "share", "polypack", "manifests");
}

/**
 * The name an index is kept under: the reference in its normalised form, so `docker://r/a:1` and
 * `r/a:1` are one index. A reference with a digest cannot name an index still to be written.
 */
export function canonicalIndexName(text: string): string {
  const endpoint = parseEndpoint(text);
  if (endpoint.kind !== "registry") {
    throw new PolypackError("ENDPOINT_INVALID", `${text} is not a registry reference`, {
      hint: "the local index store keeps indexes named by a registry reference, such as registry/repo:tag",
    });
  }
  const reference = Reference.parse(endpoint.reference);
  if (reference.digest) {
    throw new PolypackError("REFERENCE_INVALID", `${text} names a digest; a local index is named by a tag`, {
      hint: "name the index repository:tag; its digest is known once it is pushed",
    });
  }
  return reference.toString();
}

/** The local index store: one JSON record per index, each written atomically. */
export class IndexStore {
  constructor(
    /** The store's directory. */
    readonly root: string,
  ) {}

  /** The store at its default place (see defaultIndexStoreDir). */
  static default(env: NodeJS.ProcessEnv = process.env): IndexStore {
    return new IndexStore(defaultIndexStoreDir(env));
  }

  /** The record file of an index: its name percent-encoded, so it can never leave the root. */
  pathOf(name: string): string {
    return join(this.root, `${encodeURIComponent(name)}.json`);
  }

  /** The index kept under `name`, checked; undefined when there is none. */
  async read(name: string): Promise<StoredIndex | undefined> {
    const path = this.pathOf(name);
    const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (info === undefined) return undefined;
    const bad = (why: string): PolypackError =>
      new PolypackError("MANIFEST_LOCAL_INVALID", `local index ${name} (${path}): ${why}`);
    if (!info.isFile()) throw bad("is not a regular file");
    if (info.size > MAX_RECORD_BYTES)
      throw bad(`is ${info.size} bytes, over the ${MAX_RECORD_BYTES}-byte cap`);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new PolypackError("MANIFEST_LOCAL_INVALID", `local index ${name} (${path}) is not valid JSON`, {
        cause: error,
      });
    }
    return checkRecord(json, name, bad);
  }

  /** Keeps `record` under its name, replacing what was there. */
  async write(record: StoredIndex): Promise<void> {
    const { name, index, locations } = record;
    const kept: Record<string, string> = {};
    // Only the children the index lists, in its order, so equal indexes give equal records.
    for (const child of index.manifests) kept[child.digest] = locations[child.digest]!;
    const text = JSON.stringify({ schemaVersion: SCHEMA_VERSION, name, index, locations: kept }, null, 2);
    await writeFileAtomic(this.pathOf(name), `${text}\n`);
  }

  /** Deletes the index kept under `name`; false when there was none. */
  async remove(name: string): Promise<boolean> {
    const path = this.pathOf(name);
    try {
      await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
    await rm(path, { force: true });
    return true;
  }
}

/** Checks a record read from disk: nothing in it is trusted until checked here. */
function checkRecord(json: unknown, name: string, bad: (why: string) => PolypackError): StoredIndex {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("is not a JSON object");
  const record = json as Record<string, unknown>;
  if (record["schemaVersion"] !== SCHEMA_VERSION) throw bad(`has schemaVersion other than ${SCHEMA_VERSION}`);
  if (record["name"] !== name) throw bad(`is the record of ${JSON.stringify(record["name"])}`);
  let index: ImageIndex;
  try {
    const bytes = encodeJSON(record["index"]);
    const parsed = parseManifest(bytes, undefined, `local index ${name}`);
    if (parsed.kind !== "index") throw bad("holds an image manifest, not an index");
    index = parsed.index;
  } catch (error) {
    if (error instanceof PolypackError && error.code === "MANIFEST_LOCAL_INVALID") throw error;
    throw bad(`its index is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const given = record["locations"];
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw bad("has no locations");
  const locations: Record<string, string> = {};
  for (const child of index.manifests) {
    if (!isImageMediaType(child.mediaType))
      throw bad(`lists ${child.digest}, which is not an image manifest`);
    const location = (given as Record<string, unknown>)[child.digest];
    if (typeof location !== "string" || !validLocation(location)) {
      throw bad(`gives no valid location for ${child.digest}`);
    }
    locations[child.digest] = location;
  }
  return { name, index, locations };
}

/** A location as the store writes it: a bare repository, or an absolute layout or `.cnb` path. */
function validLocation(location: string): boolean {
  try {
    const endpoint = parseEndpoint(location);
    if (endpoint.kind !== "registry") return isAbsolute(endpoint.path) && endpoint.ref === undefined;
    const reference = Reference.parse(endpoint.reference);
    return reference.tag === undefined && reference.digest === undefined;
  } catch {
    return false;
  }
}
