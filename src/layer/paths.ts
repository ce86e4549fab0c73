import { PolypackError } from "../errors/index.js";

/**
 * The canonical relative form of a path inside an archive: no leading `/` or `./`, no empty or `.`
 * segments, `..` resolved. `""` is the root itself; `undefined` means the path climbs out of the
 * root, which extractors must never be allowed to do.
 */
export function cleanArchivePath(name: string): string | undefined {
  const segments: string[] = [];
  for (const segment of name.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length === 0) return undefined;
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return segments.join("/");
}

/** Cleans a path given to a writer; refuses the root itself, NUL bytes and paths escaping the root. */
export function entryArchivePath(name: string, context: string): string {
  const cleaned = name.includes("\0") ? undefined : cleanArchivePath(name);
  if (cleaned === undefined || cleaned === "") {
    throw new PolypackError(
      "LAYER_PATH_INVALID",
      `${context}: ${JSON.stringify(name)} is not a valid path inside a layer`,
      { hint: "paths must name something below the archive root and may not climb out of it with .." },
    );
  }
  return cleaned;
}

/** Cleans a path read from an archive; a path that escapes the root fails with PATH_ESCAPE. */
export function readArchivePath(name: string, context: string): string {
  const cleaned = name.includes("\0") ? undefined : cleanArchivePath(name);
  if (cleaned === undefined) {
    throw new PolypackError(
      "PATH_ESCAPE",
      `${context}: entry ${JSON.stringify(name)} points outside the archive root`,
      { hint: "the archive is malformed or hostile; it was not extracted" },
    );
  }
  return cleaned;
}

/**
 * Orders archive paths segment by segment on their UTF-8 bytes, the order of a sorted directory
 * walk: a directory always comes right before its contents, and the result does not depend on the
 * locale or on how the file system lists names.
 */
export function compareArchivePaths(a: string, b: string): number {
  const left = a.split("/");
  const right = b.split("/");
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) {
    const order = Buffer.compare(Buffer.from(left[i]!, "utf8"), Buffer.from(right[i]!, "utf8"));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}
