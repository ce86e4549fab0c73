import type { Readable } from "node:stream";
import type { PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { blobExists } from "./blobs.js";
import { locationName, pullScope, pushScope, repositoryUrl } from "./endpoint.js";
import { errorFromResponse } from "./errors.js";
import { discard } from "../http/message.js";
import { retrying } from "../http/retry.js";
import type { RegistryRequest } from "./http.js";
import type { Transport } from "./transport.js";
import { putChunks, putWhole, sessionFrom, uploadBody, type UploadSession } from "./upload-session.js";

/** The default size of PATCH chunks, also the minimum S3-backed registries accept. */
export const DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024;

/** How one blob is pushed. */
export interface PushBlobOptions {
  /** A repository on the same registry holding the blob, to mount from. */
  mountFrom?: RegistryLocation;
  /** Called with the bytes sent so far in the current attempt. */
  onProgress?: (bytesDone: number) => void;
  /** Upload in chunks from the start instead of one PUT. */
  chunked?: boolean;
  /** Bytes per PATCH request. */
  chunkSize?: number;
}

/** Opens an upload session with POST. */
async function startUpload(
  transport: Transport,
  location: RegistryLocation,
  what: string,
): Promise<UploadSession> {
  const request: RegistryRequest = {
    method: "POST",
    url: repositoryUrl(location, "blobs/uploads/"),
    headers: { "content-length": "0" },
    scopes: [pushScope(location)],
  };
  const response = await transport.send(request);
  if (response.status !== 202) throw await errorFromResponse(response, request, what, transport.clock.now());
  await discard(response);
  return sessionFrom(response, request);
}

/** Asks the registry to mount the blob from another repository: "mounted", or a session to upload into. */
async function mount(
  transport: Transport,
  location: RegistryLocation,
  from: RegistryLocation,
  digest: string,
  what: string,
): Promise<"mounted" | UploadSession> {
  const url = repositoryUrl(location, "blobs/uploads/");
  url.searchParams.set("mount", digest);
  url.searchParams.set("from", from.repository);
  const request: RegistryRequest = {
    method: "POST",
    url,
    headers: { "content-length": "0" },
    scopes: [pushScope(location), pullScope(from)],
  };
  const response = await transport.send(request);
  if (response.status === 201) {
    await discard(response);
    return "mounted";
  }
  if (response.status !== 202) throw await errorFromResponse(response, request, what, transport.clock.now());
  await discard(response);
  return sessionFrom(response, request);
}

/**
 * Pushes a blob unless the repository has it: mount when a source repository on the same registry
 * is known, else one PUT, falling back to chunks when the registry refuses the single request.
 * A temporary failure restarts the upload from a new session with a freshly opened stream.
 */
export async function pushBlob(
  transport: Transport,
  location: RegistryLocation,
  descriptor: Descriptor,
  open: () => Promise<Readable>,
  options: PushBlobOptions = {},
): Promise<PutBlobResult> {
  const digest = Digest.parse(descriptor.digest).toString();
  const what = `pushing blob ${digest} to ${locationName(location)}`;
  if (await blobExists(transport, location, digest)) return "exists";
  let session: UploadSession | undefined;
  const from = options.mountFrom;
  if (from && from.registry === location.registry && from.repository !== location.repository) {
    const mounted = await mount(transport, location, from, digest, what);
    if (mounted === "mounted") return "mounted";
    session = mounted;
  }
  let chunked = options.chunked ?? false;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  await retrying(transport.retryPolicy, transport.clock, async () => {
    let current = session ?? (await startUpload(transport, location, what));
    session = undefined;
    if (!chunked) {
      const body = await uploadBody(open, options.onProgress);
      if ((await putWhole(transport, location, current, descriptor, body, what)) === "done") return;
      chunked = true;
      current = await startUpload(transport, location, what);
    }
    const body = await uploadBody(open, options.onProgress);
    await putChunks(transport, location, current, descriptor, body, chunkSize, what);
  });
  return "uploaded";
}
