import { readFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { PolypackError } from "../errors/index.js";
import { downloadErrors, openHttp } from "../dependencies/http-source.js";
import type { HttpRequest } from "../http/message.js";
import { redactUrl } from "../http/redact.js";
import { readCapped } from "../util/streams.js";
import type { BuildpackDownloadOptions } from "./http-download.js";

/** The prefix of a buildpack registry locator: `urn:cnb:registry:<ns>/<name>[@<version>]`. */
export const REGISTRY_URN_PREFIX = "urn:cnb:registry:";
// An index file lists every version of one buildpack; a few hundred bytes each.
const MAX_INDEX_FILE_BYTES = 4 * 1024 * 1024;
const FIELD = /^[a-z0-9][a-z0-9._-]{0,252}$/;

/** One line of a registry-index file (pack's registry.Buildpack). */
interface IndexEntry {
  ns: string;
  name: string;
  version: string;
  yanked?: boolean;
  addr?: string;
}

/**
 * Resolves `urn:cnb:registry:<ns>/<name>[@<version>]` to the image address a buildpack registry
 * index records for it, as pack's `-r/--buildpack-registry` does: the index is a local clone of a
 * registry-index repository, or the http(s) URL of its raw files. Without a version the highest
 * version not yanked is taken. Throws BUILDPACK_REGISTRY_LOOKUP_FAILED naming `where` and the urn.
 */
export async function resolveRegistryUrn(
  urn: string,
  index: string | undefined,
  where: string,
  downloads: BuildpackDownloadOptions = {},
): Promise<string> {
  const fail = (why: string, hint: string): PolypackError =>
    new PolypackError("BUILDPACK_REGISTRY_LOOKUP_FAILED", `${where}: cannot resolve ${urn}: ${why}`, {
      hint,
    });
  if (index === undefined) {
    throw fail(
      "no buildpack registry was given",
      "pass -r/--buildpack-registry with a registry-index clone or URL",
    );
  }
  const [id = "", version, ...rest] = urn.slice(REGISTRY_URN_PREFIX.length).split("@");
  const [ns = "", name = "", ...more] = id.split("/");
  if (rest.length > 0 || more.length > 0 || !FIELD.test(ns) || !FIELD.test(name)) {
    throw fail("it is not urn:cnb:registry:<namespace>/<name>[@<version>]", "check the dependency's uri");
  }
  const path = indexPath(ns, name);
  const text = await readIndexFile(index, path, downloads).catch((error: unknown) => {
    const reason = error instanceof Error ? `: ${error.message}` : "";
    throw new PolypackError(
      "BUILDPACK_REGISTRY_LOOKUP_FAILED",
      `${where}: cannot resolve ${urn}: ${redactIndex(index)} has no readable ${path}${reason}`,
      {
        cause: error,
        hint: "check the registry index and the buildpack's id (and --ca-file for a private CA)",
      },
    );
  });
  const entries = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) =>
      parseIndexLine(line, () => fail(`line ${i + 1} of ${path} is not JSON`, "check the registry index")),
    )
    .filter((e) => e.ns === ns && e.name === name && typeof e.addr === "string" && e.addr !== "");
  const chosen =
    version !== undefined
      ? entries.find((e) => e.version === version)
      : entries
          .filter((e) => e.yanked !== true && semver.valid(e.version) !== null)
          .sort((a, b) => semver.compare(b.version, a.version))[0];
  if (chosen === undefined) {
    const have = entries.map((e) => e.version).join(", ") || "none";
    throw fail(
      `the index has no ${version ? `version ${version}` : "usable version"} (it has ${have})`,
      "choose a version the index lists",
    );
  }
  if (chosen.yanked === true) throw fail(`version ${chosen.version} is yanked`, "choose another version");
  return chosen.addr!;
}

function parseIndexLine(line: string, invalid: () => Error): IndexEntry {
  try {
    const entry = JSON.parse(line) as unknown;
    if (typeof entry === "object" && entry !== null) return entry as IndexEntry;
  } catch {
    // reported below
  }
  throw invalid();
}

/** pack's registry.IndexPath: `1/`, `2/`, `3/<ab>/` or `<ab>/<cd>/` by the name's length, then `<ns>_<name>`. */
function indexPath(ns: string, name: string): string {
  const dir =
    name.length === 1
      ? "1"
      : name.length === 2
        ? "2"
        : name.length === 3
          ? `3/${name.slice(0, 2)}`
          : `${name.slice(0, 2)}/${name.slice(2, 4)}`;
  return `${dir}/${ns}_${name}`;
}

async function readIndexFile(
  index: string,
  path: string,
  downloads: BuildpackDownloadOptions,
): Promise<string> {
  if (!/^https?:\/\//i.test(index)) {
    const text = await readFile(join(index, path));
    if (text.length > MAX_INDEX_FILE_BYTES) throw new Error(`larger than ${MAX_INDEX_FILE_BYTES} bytes`);
    return text.toString("utf8");
  }
  // The same HTTP stack as every other download: --ca-file, the idle timeout, redirects that drop
  // URL credentials when they leave the origin.
  const url = new URL(`${index.replace(/\/+$/, "")}/${path}`);
  const idleTimeoutMs = downloads.idleTimeoutMs ?? 60_000;
  const { createHttpStack } = await import("../http/stack.js");
  const stack = createHttpStack<HttpRequest>({
    errors: downloadErrors,
    timeoutMs: idleTimeoutMs,
    retry: false,
    maxRedirects: 5,
    ...(downloads.caFile ? { caFile: downloads.caFile } : {}),
  });
  try {
    const opened = await openHttp(url, {
      stack: () => Promise.resolve(stack),
      idleTimeoutMs,
      maxBytes: MAX_INDEX_FILE_BYTES,
    });
    const body = await readCapped(opened.stream, MAX_INDEX_FILE_BYTES, { declaredSize: opened.size });
    return body.toString("utf8");
  } finally {
    await stack.close();
  }
}

/** The index for messages: a URL without the credentials it may carry. */
function redactIndex(index: string): string {
  return /^https?:\/\//i.test(index) ? redactUrl(new URL(index)) : index;
}
