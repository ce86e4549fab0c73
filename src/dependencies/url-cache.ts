import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Digest } from "../oci/digest.js";
import { verifyingStream } from "../oci/verify.js";
import { redactUrl } from "../http/redact.js";
import { tempPathBeside } from "../util/fs.js";
import type { CacheEntry, DependencyCache } from "./cache.js";
import { openHttp, type HttpSourceOptions, type Validators } from "./http-source.js";

/**
 * What the cache knows of a URL without a declared checksum (a buildpack archive named by an
 * http(s) `uri`): the sha256 of the content last downloaded from it, and the server's validators
 * for asking whether it changed. The content itself is a DependencyCache entry under that sha256.
 */
interface UrlRecord {
  /** The URL with any credentials removed, for people reading the cache. */
  url: string;
  digest: string;
  etag?: string;
  lastModified?: string;
}

/** How a URL was brought into the cache. */
export interface CachedUrl {
  entry: CacheEntry;
  digest: Digest;
  /** Whether the server said the cached content is current (HTTP 304), so nothing was downloaded. */
  revalidated: boolean;
}

/**
 * Brings the content of `url` into `cache`, keyed by its sha256. A URL fetched before is asked for
 * again with its recorded ETag or Last-Modified; on 304 the cached entry is used, but only once it
 * has been found to match the sha256 recorded for the URL (an entry that does not is removed and the
 * content downloaded whole). Without validators, or after any change, the content is downloaded,
 * hashed on the way into a file in `scratch`, stored under its sha256, and the record replaced.
 */
export async function cacheUrl(
  url: URL,
  cache: DependencyCache,
  http: HttpSourceOptions,
  scratch: string,
): Promise<CachedUrl> {
  const recordPath = join(cache.dir, "urls", createHash("sha256").update(url.href).digest("hex"));
  const record = await readRecord(recordPath);
  const known = record !== undefined ? Digest.parse(record.digest) : undefined;
  // entry() hashes the file (or trusts an identity recorded when it last matched) and removes it
  // when it does not match, so a damaged entry is never revalidated into use.
  const entry = known !== undefined ? await cache.entry(known) : undefined;
  const validators: Validators = {
    ...(entry && record?.etag !== undefined ? { etag: record.etag } : {}),
    ...(entry && record?.lastModified !== undefined ? { lastModified: record.lastModified } : {}),
  };
  const opened = await openHttp(url, http, validators);
  if ("notModified" in opened) {
    if (entry !== undefined && known !== undefined) return { entry, digest: known, revalidated: true };
    // A 304 to an unconditional request: nothing to use.
    throw new Error("the server answered 304 Not Modified to a request that was not conditional");
  }
  const temp = join(scratch, `download-${createHash("sha256").update(url.href).digest("hex").slice(0, 12)}`);
  // No checksum to hold the bytes to: the one verifying stream only hashes them on their way.
  const hashing = verifyingStream({}, redactUrl(url));
  try {
    await pipeline(opened.stream, hashing, createWriteStream(temp, { flags: "wx" }));
    const digest = hashing.digest();
    const stored =
      (await cache.entry(digest)) ??
      (await cache.share(digest, () => cache.put(digest, createReadStream(temp))));
    await writeRecord(recordPath, {
      url: redactUrl(url),
      digest: digest.toString(),
      ...opened.validators,
    });
    return { entry: stored, digest, revalidated: false };
  } finally {
    await rm(temp, { force: true });
  }
}

async function readRecord(path: string): Promise<UrlRecord | undefined> {
  const parsed = await readFile(path, "utf8")
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => undefined);
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { digest, etag, lastModified, url } = parsed as Record<string, unknown>;
  // A record that does not parse is no record: the URL is downloaded again and the record rewritten.
  if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  return {
    url: typeof url === "string" ? url : "",
    digest,
    ...(typeof etag === "string" ? { etag } : {}),
    ...(typeof lastModified === "string" ? { lastModified } : {}),
  };
}

/** Replaces a record atomically; a failure only costs a download next time. */
async function writeRecord(path: string, record: UrlRecord): Promise<void> {
  const temp = tempPathBeside(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, `${JSON.stringify(record)}\n`);
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
