import { pipeline, type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { setTimeout as delay } from "node:timers/promises";
import { PolypackError } from "../errors/index.js";
import type { RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { progressTap } from "../oci/verify.js";
import { chunksOf } from "./chunks.js";
import { pushScope } from "./endpoint.js";
import { errorFromResponse, RegistryError } from "./errors.js";
import { discard, header } from "../http/message.js";
import { redactUrl } from "../http/redact.js";
import type { RegistryRequest, RegistryResponse } from "./http.js";
import type { Transport } from "./transport.js";

/** How long to wait for a source stream's own verdict once the registry refused its digest. */
const SOURCE_VERDICT_WAIT_MS = 2000;

/** An open upload: where to send the next bytes, and the smallest chunk the registry accepts. */
export interface UploadSession {
  url: URL;
  minChunkLength: number;
}

/** Reads the session a 202 answer opened (Location may be relative or absolute). */
export function sessionFrom(response: RegistryResponse, request: RegistryRequest): UploadSession {
  const location = header(response, "location");
  if (!location) {
    throw new RegistryError(
      "REGISTRY_ERROR",
      `the registry opened an upload without a Location (${redactUrl(request.url)})`,
      {
        url: redactUrl(request.url),
        status: response.status,
      },
    );
  }
  const minChunk = Number(header(response, "oci-chunk-min-length"));
  return {
    url: new URL(location, response.url),
    minChunkLength: Number.isSafeInteger(minChunk) && minChunk > 0 ? minChunk : 0,
  };
}

/** The blob's bytes as they should leave, counted for progress. */
export async function uploadBody(
  open: () => Promise<Readable>,
  onProgress?: (bytesDone: number) => void,
): Promise<Readable> {
  // Not hashed again here: every ContentSource stream verifies itself, and the registry checks the
  // `digest` parameter of the closing PUT, so a third pass over the bytes would only cost time.
  return pipeline(await open(), progressTap(onProgress ?? (() => undefined)), () => undefined);
}

function writeRequest(
  location: RegistryLocation,
  method: "PUT" | "PATCH",
  url: URL,
  body: Readable | Buffer,
  length: number,
): RegistryRequest {
  return {
    method,
    url,
    headers: { "content-type": "application/octet-stream", "content-length": String(length) },
    body,
    scopes: [pushScope(location)],
    // Bytes sent into a session cannot be taken back; a failure restarts the whole upload instead.
    retryable: false,
  };
}

/** Whether a refused single PUT suggests trying chunks: too large, unsupported, or a bad request. */
function suggestsChunks(error: RegistryError): boolean {
  if (error.status === 413 || error.status === 415) return true;
  return (
    error.status === 400 && !error.registryCodes.some((c) => c === "DIGEST_INVALID" || c === "SIZE_INVALID")
  );
}

/**
 * Sends the whole blob with one PUT. Returns "refused" when the registry turned the single request
 * down in a way that suggests chunks; other failures throw.
 */
export async function putWhole(
  transport: Transport,
  location: RegistryLocation,
  session: UploadSession,
  descriptor: Descriptor,
  body: Readable,
  what: string,
): Promise<"done" | "refused"> {
  const url = new URL(session.url);
  url.searchParams.set("digest", descriptor.digest);
  const request = writeRequest(location, "PUT", url, body, descriptor.size);
  const response = await transport.send(request);
  if (response.status === 201) {
    await discard(response);
    return "done";
  }
  const error = await errorFromResponse(response, request, what, transport.clock.now());
  // A registry that refuses the digest may have answered before our own check of the source
  // finished (a worker thread hashing a local file, say); the source's verdict names the real fault.
  if (error.registryCodes.includes("DIGEST_INVALID") || error.registryCodes.includes("SIZE_INVALID")) {
    const stop = new AbortController();
    await Promise.race([
      finished(body).catch(() => undefined),
      delay(SOURCE_VERDICT_WAIT_MS, undefined, { signal: stop.signal }).catch(() => undefined),
    ]);
    stop.abort();
  }
  const sourceError = body.errored;
  body.destroy();
  if (sourceError instanceof PolypackError) throw sourceError;
  if (suggestsChunks(error)) return "refused";
  throw error;
}

/** Sends the blob as PATCH chunks of at least the registry's minimum length, then closes with PUT. */
export async function putChunks(
  transport: Transport,
  location: RegistryLocation,
  session: UploadSession,
  descriptor: Descriptor,
  body: Readable,
  chunkSize: number,
  what: string,
): Promise<void> {
  let url = session.url;
  let offset = 0;
  try {
    for await (const chunk of chunksOf(body, Math.max(chunkSize, session.minChunkLength))) {
      const request = writeRequest(location, "PATCH", url, chunk, chunk.length);
      request.headers!["content-range"] = `${offset}-${offset + chunk.length - 1}`;
      const response = await transport.send(request);
      if (response.status !== 202)
        throw await errorFromResponse(response, request, what, transport.clock.now());
      url = sessionFrom(response, request).url;
      await discard(response);
      offset += chunk.length;
    }
  } finally {
    body.destroy();
  }
  const close = new URL(url);
  close.searchParams.set("digest", descriptor.digest);
  const request = writeRequest(location, "PUT", close, Buffer.alloc(0), 0);
  const response = await transport.send(request);
  if (response.status !== 201) throw await errorFromResponse(response, request, what, transport.clock.now());
  await discard(response);
}
