import { PolypackError } from "../errors/index.js";
import { fileSize, type LayerEntry } from "./entry.js";
import { encodeTarHeader, type TarHeaderFields } from "./tar-format.js";

/** The mtime pack gives every entry: 1980-01-01T00:00:01Z, the earliest time zip and tar agree on. */
export const DEFAULT_LAYER_MTIME = new Date("1980-01-01T00:00:01Z");

/** How headers are written. */
export interface HeaderOptions {
  /** Whether names begin with `/` (pack writes `/cnb/buildpacks/...`). */
  absoluteNames: boolean;
  /** The mtime of every entry. */
  mtime: Date;
}

// Layer mtimes stay within 32 bits (as tar tools long assumed), and ustar's octal size field ends at 8 GiB.
const MAX_MTIME_SECONDS = 2 ** 31 - 1;
const MAX_USTAR_SIZE = 8 ** 11 - 1;
const USTAR_NAME_BYTES = 100;

/**
 * The mtime for layer entries: SOURCE_DATE_EPOCH (seconds since 1970) when set, as reproducible
 * builds expect, else DEFAULT_LAYER_MTIME.
 */
export function layerMtime(env: NodeJS.ProcessEnv = process.env): Date {
  const raw = env["SOURCE_DATE_EPOCH"]?.trim();
  if (raw === undefined || raw === "") return DEFAULT_LAYER_MTIME;
  const seconds = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds <= MAX_MTIME_SECONDS)) {
    throw new PolypackError(
      "SOURCE_DATE_EPOCH_INVALID",
      `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is invalid`,
      {
        hint: `set it to whole seconds since 1970-01-01, at most ${MAX_MTIME_SECONDS}, or unset it`,
      },
    );
  }
  return new Date(seconds * 1000);
}

/**
 * The permission bits written for an entry, as pack writes them: directories 0755, anything with an
 * execute bit 0755, everything else 0644, unless the caller fixed the mode with `exactMode`.
 */
export function normalizeMode(entry: LayerEntry): number {
  if (entry.exactMode !== undefined) return entry.exactMode & 0o7777;
  if (entry.type === "directory") return 0o755;
  const onDisk = entry.mode ?? (entry.type === "symlink" ? 0o777 : 0o644);
  return onDisk & 0o111 ? 0o755 : 0o644;
}

/**
 * The header fields of an entry whose path (and hard link target) is already clean and relative.
 * Ownership is root, names are empty, the mtime fixed. PAX records are forced for sizes beyond
 * 8 GiB and for long absolute names (a ustar split would drop the leading `/`); the encoder adds
 * them itself for names ustar cannot hold.
 */
export function tarHeaderFor(entry: LayerEntry, path: string, options: HeaderOptions): TarHeaderFields {
  const name = options.absoluteNames ? `/${path}` : path;
  const mode = normalizeMode(entry);
  const mtime = Math.floor(options.mtime.getTime() / 1000);
  let pax: Record<string, string> | undefined;
  if (options.absoluteNames && Buffer.byteLength(name) > USTAR_NAME_BYTES) pax = {};
  const fields = (rest: Pick<TarHeaderFields, "type" | "size" | "linkname">): TarHeaderFields => ({
    name,
    mode,
    mtime,
    ...(entry.uid ? { uid: entry.uid } : {}),
    ...(entry.gid ? { gid: entry.gid } : {}),
    ...rest,
    ...(pax ? { pax } : {}),
  });
  switch (entry.type) {
    case "directory":
      return fields({ type: "directory", size: 0 });
    case "symlink":
      return fields({ type: "symlink", size: 0, linkname: entry.linkname });
    case "hardlink": {
      const linkname = options.absoluteNames ? `/${entry.linkname}` : entry.linkname;
      return fields({ type: "hardlink", size: 0, linkname });
    }
    case "file": {
      const size = fileSize(entry);
      if (size > MAX_USTAR_SIZE) pax = { ...pax, size: String(size) };
      return fields({ type: "file", size });
    }
  }
}

/** The exact header bytes of an entry (see tar-format.ts). */
export function entryHeaderBytes(entry: LayerEntry, path: string, options: HeaderOptions): Buffer {
  return encodeTarHeader(tarHeaderFor(entry, path, options));
}
