import type { Readable } from "node:stream";
import type { Descriptor } from "./descriptor.js";

/** A repository on a registry, used to mount blobs across repositories of the same registry. */
export interface RegistryLocation {
  /** Registry host as written in references, e.g. `127.0.0.1:5000` or `index.docker.io`. */
  registry: string;
  /** Repository path, e.g. `library/alpine`. */
  repository: string;
}

/**
 * The read side of a content store: a registry repository, an OCI image layout or a `.cnb` file.
 * Every backend checks what it returns against the descriptor's digest and size.
 */
export interface ContentSource {
  /** What to call this source in messages, e.g. `registry 127.0.0.1:5000/a/b:tag`. */
  readonly name: string;
  /** Set when the source is a registry repository, so a target on the same registry can mount. */
  readonly location?: RegistryLocation;
  /** The descriptor of the image or index the user named. */
  resolve(): Promise<Descriptor>;
  /** The bytes of a manifest or index, verified against the descriptor and a size cap. */
  fetchManifest(descriptor: Descriptor): Promise<Buffer>;
  /** A blob as a stream that fails (instead of ending) when its bytes do not match the descriptor. */
  openBlob(descriptor: Descriptor): Promise<Readable>;
  /**
   * Whether a failed read of a blob may succeed if the blob is opened again (a body damaged on the
   * way from a registry, say). Absent, or false, for a failure that would recur: a file whose
   * bytes are wrong fails at once.
   */
  refetchable?(error: unknown): boolean;
  /** Releases files or connections. */
  close?(): Promise<void>;
}

/** Options for writing one blob. */
export interface PutBlobOptions {
  /** A repository on the same registry that holds the blob, to mount instead of upload. */
  mountFrom?: RegistryLocation;
  /** Called with the number of bytes written so far. */
  onProgress?: (bytesDone: number) => void;
  /**
   * A local file holding exactly the blob's bytes, written and hashed by polypack moments ago and
   * given up by the caller: a target on the same file system may move it into place instead of
   * copying it. A target that cannot is free to ignore it and open the stream.
   */
  spool?: string;
}

/** What putBlob did, for reports. */
export type PutBlobResult = "uploaded" | "mounted" | "exists" | "moved";

/**
 * The write side of a content store. Writers are called in dependency order by `copy`: blobs, then
 * child manifests by digest, then indexes, and the tags last.
 */
export interface ContentTarget {
  /** What to call this target in messages. */
  readonly name: string;
  /** Set when the target is a registry repository. */
  readonly location?: RegistryLocation;
  /** Whether the blob already exists, so it need not be written. */
  hasBlob(descriptor: Descriptor): Promise<boolean>;
  /** Writes a blob from a stream opened on demand (not opened at all when mounted or present). */
  putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options?: PutBlobOptions,
  ): Promise<PutBlobResult>;
  /** Whether a manifest is already stored under its digest. */
  hasManifest(descriptor: Descriptor): Promise<boolean>;
  /** Stores a manifest or index under its digest (no tag). */
  putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void>;
  /** Points tags (or layout ref names) at a stored manifest. Called last. */
  tag(descriptor: Descriptor, tags: readonly string[]): Promise<void>;
  /** Makes the result visible (for files written whole at the end). */
  commit?(): Promise<void>;
  /** Discards a partial result. */
  abort?(): Promise<void>;
}
