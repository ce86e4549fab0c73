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

// Layer mtimes stay within 32 bits (as tar tools long assumed).
const MAX_MTIME_SECONDS = 2 ** 31 - 1;

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
 * Ownership is root, names are empty, the mtime fixed. The encoder chooses ustar or PAX for the
 * entry as Go's archive/tar does (see tar-format.ts).
 */
export function tarHeaderFor(entry: LayerEntry, path: string, options: HeaderOptions): TarHeaderFields {
  const name = options.absoluteNames ? `/${path}` : path;
  const mode = normalizeMode(entry);
  const mtime = Math.floor(options.mtime.getTime() / 1000);
  const fields = (rest: Pick<TarHeaderFields, "type" | "size" | "linkname">): TarHeaderFields => ({
    name,
    mode,
    mtime,
    ...(entry.uid ? { uid: entry.uid } : {}),
    ...(entry.gid ? { gid: entry.gid } : {}),
    ...rest,
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
    case "file":
      return fields({ type: "file", size: fileSize(entry) });
  }
}

/** The exact header bytes of an entry (see tar-format.ts). */
export function entryHeaderBytes(entry: LayerEntry, path: string, options: HeaderOptions): Buffer {
  return encodeTarHeader(tarHeaderFor(entry, path, options));
}
