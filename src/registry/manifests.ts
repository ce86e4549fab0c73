import { PolypackError } from "../errors/index.js";
import type { RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "../oci/manifest.js";
import { MANIFEST_MEDIA_TYPES } from "../oci/media-types.js";
import { verifyBytes } from "../oci/verify.js";
import { locationName, pullScope, pushScope, repositoryUrl } from "./endpoint.js";
import { errorFromResponse, isNetworkError, networkError } from "./errors.js";
import { retryWait } from "../http/retry-policy.js";
import { discard, header, readBody } from "../http/message.js";
import type { RegistryRequest, RegistryResponse } from "./http.js";
import type { Transport } from "./transport.js";

const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

/** A manifest read from a registry, verified, with the descriptor that points at it. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

function manifestRequest(
  transport: Transport,
  location: RegistryLocation,
  method: "GET" | "HEAD",
  ref: string,
): RegistryRequest {
  return {
    method,
    url: repositoryUrl(location, `manifests/${ref}`),
    headers: { accept: ACCEPT },
    scopes: [pullScope(location)],
  };
}

/**
 * Looks a manifest up by tag or digest without its body. Undefined when absent. When the registry
 * leaves out the digest or media type, falls back to GET (which also verifies).
 */
export async function headManifest(
  transport: Transport,
  location: RegistryLocation,
  ref: string,
): Promise<Descriptor | undefined> {
  const request = manifestRequest(transport, location, "HEAD", ref);
  const response = await transport.send(request);
  await discard(response);
  if (response.status === 404) return undefined;
  if (response.status !== 200)
    throw await errorFromResponse(response, request, `looking up ${locationName(location)}:${ref}`);
  const digest = header(response, "docker-content-digest");
  const mediaType = header(response, "content-type")?.split(";")[0]?.trim();
  const size = Number(header(response, "content-length"));
  if (
    digest &&
    Digest.isValid(digest) &&
    mediaType &&
    MANIFEST_MEDIA_TYPES.includes(mediaType) &&
    Number.isSafeInteger(size)
  ) {
    if (Digest.isValid(ref) && digest !== ref) {
      throw new PolypackError(
        "DIGEST_MISMATCH",
        `${locationName(location)} answered digest ${digest} for ${ref}`,
      );
    }
    return { mediaType, digest, size };
  }
  return (await getManifest(transport, location, ref)).descriptor;
}

/**
 * Reads a manifest by tag or digest with a size cap. Fetched by digest, the bytes must match it;
 * fetched by tag, they must match the registry's Docker-Content-Digest when it sends one.
 */
export async function getManifest(
  transport: Transport,
  location: RegistryLocation,
  ref: string,
  maxBytes: number = MAX_MANIFEST_BYTES,
): Promise<FetchedManifest> {
  const what = `manifest ${locationName(location)}${Digest.isValid(ref) ? "@" : ":"}${ref}`;
  const request = manifestRequest(transport, location, "GET", ref);
  const { bytes, response } = await fetchBody(transport, request, maxBytes, what);
  const claimed = Digest.isValid(ref) ? ref : header(response, "docker-content-digest");
  const digest = claimed && Digest.isValid(claimed) ? claimed : Digest.of(bytes).toString();
  verifyBytes(bytes, { digest, size: bytes.length }, what);
  const parsed = parseManifest(bytes, header(response, "content-type"), what);
  return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, bytes };
}

/**
 * GETs a capped body. A connection lost while reading the body (after the transport's own retries
 * had their say about the status) is retried here with the same policy.
 */
async function fetchBody(
  transport: Transport,
  request: RegistryRequest,
  maxBytes: number,
  what: string,
): Promise<{ bytes: Buffer; response: RegistryResponse }> {
  for (let attempt = 1; ; attempt++) {
    const response = await transport.send(request);
    if (response.status !== 200) throw await errorFromResponse(response, request, `reading ${what}`);
    try {
      return { bytes: await readBody(response, maxBytes, what), response };
    } catch (error) {
      if (!isNetworkError(error)) throw error;
      const wait = retryWait(attempt, transport.retryPolicy, transport.clock.random(), undefined);
      if (wait === undefined) throw networkError(error, request);
      await transport.clock.sleep(wait);
    }
  }
}

/** Stores a manifest under a tag or its digest, with Content-Type equal to its media type. */
export async function putManifest(
  transport: Transport,
  location: RegistryLocation,
  ref: string,
  bytes: Buffer,
  mediaType: string,
): Promise<void> {
  const request: RegistryRequest = {
    method: "PUT",
    url: repositoryUrl(location, `manifests/${ref}`),
    headers: { "content-type": mediaType, "content-length": String(bytes.length) },
    body: bytes,
    scopes: [pushScope(location)],
  };
  const what = `pushing manifest ${Digest.of(bytes).toString()} to ${locationName(location)} as ${ref}`;
  const response = await transport.send(request);
  if (response.status !== 201 && response.status !== 200)
    throw await errorFromResponse(response, request, what);
  await discard(response);
  const stored = header(response, "docker-content-digest");
  const expected = Digest.of(bytes, stored?.startsWith("sha512:") ? "sha512" : "sha256").toString();
  if (stored !== undefined && stored !== expected) {
    throw new PolypackError(
      "DIGEST_MISMATCH",
      `${what}: the registry stored it as ${stored}, expected ${expected}`,
    );
  }
}
