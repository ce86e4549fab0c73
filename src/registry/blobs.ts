import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { verifyingStream } from "../oci/verify.js";
import { locationName, pullScope, repositoryUrl } from "./endpoint.js";
import { errorFromResponse, isNetworkError, networkError } from "./errors.js";
import { abandon, discard, header } from "../http/message.js";
import type { Transport } from "./transport.js";

/** Whether the repository holds the blob (HEAD; 404 means no). */
export async function blobExists(
  transport: Transport,
  location: RegistryLocation,
  digest: string,
): Promise<boolean> {
  return (await blobSize(transport, location, digest)) !== undefined;
}

/**
 * A blob as a stream that errors (instead of ending) unless exactly the descriptor's bytes arrive.
 * Redirects to storage hosts are followed without credentials.
 */
export async function openBlob(
  transport: Transport,
  location: RegistryLocation,
  descriptor: Descriptor,
): Promise<Readable> {
  const what = `blob ${descriptor.digest} from ${locationName(location)}`;
  const request = {
    method: "GET" as const,
    url: repositoryUrl(location, `blobs/${Digest.parse(descriptor.digest).toString()}`),
    scopes: [pullScope(location)],
  };
  const response = await transport.send(request);
  if (response.status !== 200) throw await errorFromResponse(response, request, `reading ${what}`);
  const length = header(response, "content-length");
  if (length !== undefined && Number(length) !== descriptor.size) {
    abandon(response);
    throw new PolypackError("SIZE_MISMATCH", `${what} has ${length} bytes, expected ${descriptor.size}`);
  }
  // The verifier is what callers read. A connection lost mid-body becomes a typed
  // REGISTRY_UNAVAILABLE on it, and a reader that gives up early releases the connection.
  const verifier = verifyingStream(descriptor, what);
  const body = response.body;
  body.on("error", (error) => verifier.destroy(isNetworkError(error) ? networkError(error, request) : error));
  verifier.on("close", () => {
    if (!body.readableEnded) body.destroy();
  });
  return body.pipe(verifier);
}

/**
 * The size a repository gives for a blob (HEAD's Content-Length): undefined when it does not hold
 * the blob, null when it holds it but names no valid size.
 */
export async function blobSize(
  transport: Transport,
  location: RegistryLocation,
  digest: string,
): Promise<number | null | undefined> {
  const request = {
    method: "HEAD" as const,
    url: repositoryUrl(location, `blobs/${Digest.parse(digest).toString()}`),
    scopes: [pullScope(location)],
  };
  const response = await transport.send(request);
  await discard(response);
  if (response.status === 404) return undefined;
  if (response.status !== 200) {
    throw await errorFromResponse(
      response,
      request,
      `checking for blob ${digest} in ${locationName(location)}`,
    );
  }
  const length = Number(header(response, "content-length") ?? NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}
