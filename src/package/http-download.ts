import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { isPolypackError, PolypackError } from "../errors/index.js";
import { downloadErrors } from "../dependencies/http-source.js";
import { DependencyCache } from "../dependencies/cache.js";
import { defaultDependencyCacheDir } from "../dependencies/cache-dir.js";
import { maxDownloadBytes } from "../dependencies/download-cap.js";
import { cacheUrl } from "../dependencies/url-cache.js";
import type { HttpRequest } from "../http/message.js";
import type { HttpStack } from "../http/stack.js";
import { redactUrl } from "../http/redact.js";

/** How buildpack downloads reach servers (the `--ca-file` and `--registry-timeout` of the CLI). */
export interface BuildpackDownloadOptions {
  caFile?: string;
  idleTimeoutMs?: number;
  /** The download cache (`--cache-dir`; default: the user's, see defaultDependencyCacheDir). */
  cacheDir?: string;
  /** The most bytes one download may have; default POLYPACK_MAX_DOWNLOAD_SIZE, else 2 GiB. */
  maxBytes?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Downloads an http(s) `uri` of a package.toml dependency (a `.cnb`, or an archive of a buildpack
 * folder) into `dir` through polypack's HTTP stack (redirects that drop URL credentials when they
 * leave the origin, the idle timeout, extra certificate authorities), by way of the download cache:
 * a URL fetched before is revalidated (ETag, Last-Modified) instead of downloaded again, and the
 * cached content is checked against the sha256 recorded for it as it is copied out (see cacheUrl).
 * Returns the file's path. Throws DEPENDENCY_DOWNLOAD_FAILED naming `where` and the redacted URL,
 * or SIZE_EXCEEDED when the content is over the download cap (see maxDownloadBytes); either way
 * nothing is left in the cache or in `dir`.
 */
export async function downloadBuildpack(
  url: URL,
  dir: string,
  where: string,
  options: BuildpackDownloadOptions = {},
): Promise<string> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxBytes = maxDownloadBytes(options.maxBytes);
  let stack: Promise<HttpStack<HttpRequest>> | undefined;
  const makeStack = (): Promise<HttpStack<HttpRequest>> =>
    (stack ??= import("../http/stack.js").then(({ createHttpStack }) =>
      createHttpStack<HttpRequest>({
        errors: downloadErrors,
        timeoutMs: idleTimeoutMs,
        retry: false,
        maxRedirects: 5,
        ...(options.caFile ? { caFile: options.caFile } : {}),
      }),
    ));
  const path = join(dir, "download");
  try {
    const cache = new DependencyCache(options.cacheDir ?? defaultDependencyCacheDir());
    const { digest } = await cacheUrl(url, cache, { stack: makeStack, idleTimeoutMs, maxBytes }, dir);
    await pipeline(await cache.open(digest), createWriteStream(path, { flags: "wx" }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const tooLarge = isPolypackError(error, "SIZE_EXCEEDED");
    throw new PolypackError(
      tooLarge ? "SIZE_EXCEEDED" : "DEPENDENCY_DOWNLOAD_FAILED",
      `${where}: cannot download ${redactUrl(url)}: ${reason}`,
      {
        cause: error,
        hint: tooLarge
          ? error.hint
          : "check the URL and the network, or download the file and name it by path",
      },
    );
  } finally {
    if (stack !== undefined) await (await stack).close();
  }
  return path;
}
