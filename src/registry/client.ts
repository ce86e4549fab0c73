import type { Readable } from "node:stream";
import type { PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { blobExists, openBlob } from "./blobs.js";
import { Limiter } from "../util/concurrency.js";
import { getManifest, headManifest, putManifest, type FetchedManifest } from "./manifests.js";
import { createTransport, type Transport, type TransportOptions } from "./transport.js";
import { pushBlob, type PushBlobOptions } from "./upload.js";

/** Options of a registry client: the transport's plus upload and size limits. */
export interface RegistryClientOptions extends TransportOptions {
  /** Blob uploads running at once across the client (default 4). */
  maxConcurrentUploads?: number;
  /** Always upload blobs in chunks instead of one PUT. */
  chunked?: boolean;
  /** Bytes per PATCH request (default 5 MiB, raised to the registry's minimum). */
  chunkSize?: number;
  /** Cap on manifest size (default 4 MiB). */
  maxManifestBytes?: number;
}

/**
 * Talks to any number of registries through one transport (connection pool, token cache).
 * Operations take a repository location; references name manifests by tag or digest.
 */
export class RegistryClient {
  /** The request stack, exposed for tools that need raw requests. */
  readonly transport: Transport;
  private readonly uploads: Limiter;
  private readonly options: RegistryClientOptions;

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.transport = createTransport(options);
    this.uploads = new Limiter(Math.max(1, options.maxConcurrentUploads ?? 4));
  }

  /** Whether the repository holds a blob. */
  hasBlob(location: RegistryLocation, digest: string): Promise<boolean> {
    return blobExists(this.transport, location, digest);
  }

  /** A blob stream that fails unless its bytes match the descriptor. */
  openBlob(location: RegistryLocation, descriptor: Descriptor): Promise<Readable> {
    return openBlob(this.transport, location, descriptor);
  }

  /** Pushes a blob (or finds or mounts it), within the client's upload limit. */
  pushBlob(
    location: RegistryLocation,
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options: PushBlobOptions = {},
  ): Promise<PutBlobResult> {
    const settings: PushBlobOptions = {
      ...options,
      chunked: options.chunked ?? this.options.chunked,
      chunkSize: options.chunkSize ?? this.options.chunkSize,
    };
    return this.uploads.run(() => pushBlob(this.transport, location, descriptor, open, settings));
  }

  /** The descriptor of a manifest by tag or digest, or undefined when it does not exist. */
  headManifest(location: RegistryLocation, ref: string): Promise<Descriptor | undefined> {
    return headManifest(this.transport, location, ref);
  }

  /** A manifest's bytes by tag or digest, verified and size-capped. */
  getManifest(location: RegistryLocation, ref: string): Promise<FetchedManifest> {
    return getManifest(this.transport, location, ref, this.options.maxManifestBytes ?? MAX_MANIFEST_BYTES);
  }

  /** Stores manifest bytes under a tag or their digest. */
  putManifest(location: RegistryLocation, ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    return putManifest(this.transport, location, ref, bytes, mediaType);
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.transport.close();
  }
}
