import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import { openHttp, downloadErrors } from "../dependencies/http-source.js";
import type { HttpRequest } from "../http/message.js";
import type { HttpStack } from "../http/stack.js";
import { redactUrl } from "../http/redact.js";

/** How buildpack downloads reach servers (the `--ca-file` and `--registry-timeout` of the CLI). */
export interface BuildpackDownloadOptions {
  caFile?: string;
  idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Downloads an http(s) `uri` of a package.toml dependency (a `.cnb`, or an archive of a buildpack
 * folder) into `dir` through polypack's HTTP stack (redirects that drop URL credentials when they
 * leave the origin, the idle timeout, extra certificate authorities). Returns the file's path.
 * Throws DEPENDENCY_DOWNLOAD_FAILED naming `where` and the redacted URL.
 */
export async function downloadBuildpack(
  url: URL,
  dir: string,
  where: string,
  options: BuildpackDownloadOptions = {},
): Promise<string> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
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
    const opened = await openHttp(url, { stack: makeStack, idleTimeoutMs });
    await pipeline(opened.stream, createWriteStream(path, { flags: "wx" }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PolypackError(
      "DEPENDENCY_DOWNLOAD_FAILED",
      `${where}: cannot download ${redactUrl(url)}: ${reason}`,
      {
        cause: error,
        hint: "check the URL and the network, or download the file and name it by path",
      },
    );
  } finally {
    if (stack !== undefined) await (await stack).close();
  }
  return path;
}
