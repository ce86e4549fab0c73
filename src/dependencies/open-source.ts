import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { failure, reason } from "./failure.js";
import { openHttp, type HttpSourceOptions, type OpenedSource } from "./http-source.js";
import type { DependencySource } from "./source-uri.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/** Opens a dependency's bytes from wherever its URI points. */
export function openSource(source: DependencySource, http: HttpSourceOptions): Promise<OpenedSource> {
  return source.kind === "http" ? openHttp(source.url, http) : openFile(source.path);
}

/** A local file, with its size so that a file that shrinks while read shows up as truncated. */
async function openFile(path: string): Promise<OpenedSource> {
  const info = await stat(path).catch((error: unknown) => {
    const missing = (error as { code?: unknown }).code === "ENOENT";
    const detail = missing ? `no such file ${path}` : `cannot read ${path}: ${reason(error)}`;
    throw failure("DEPENDENCY_DOWNLOAD_FAILED", detail, { cause: error });
  });
  if (!info.isFile()) throw failure("DEPENDENCY_DOWNLOAD_FAILED", `${path} is not a regular file`);
  return { stream: createReadStream(path, { highWaterMark: STREAM_CHUNK_BYTES }), size: info.size };
}
