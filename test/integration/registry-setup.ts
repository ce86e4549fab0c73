import assert from "node:assert/strict";
import { after, before } from "node:test";
import { RegistryClient, Reference, type RegistryClientOptions } from "../../src/api/registry.js";
import type { Clock } from "../../src/http/retry-policy.js";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { blobsOf, type TestImage } from "./registry-images.js";

/** A registry, a fault proxy in front of it and a plain client, shared by one test file. */
export interface RegistryBench {
  registry: RegistryHandle;
  proxy: FaultProxy;
  /** A client that talks to the registry directly, for setting up and checking. */
  direct: RegistryClient;
}

/** Starts the bench before the file's tests and stops it after them; fields are set once started. */
export function useRegistryBehindProxy(): RegistryBench {
  const bench = {} as RegistryBench;
  before(async () => {
    bench.registry = await startRegistry();
    bench.proxy = await startFaultProxy(bench.registry.url);
    bench.direct = new RegistryClient();
  });
  after(async () => {
    await bench.direct?.close();
    await bench.proxy?.stop();
    await bench.registry?.stop();
  });
  return bench;
}

/** Backoff that is recorded instead of waited for. */
export function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => Date.now(),
    random: () => 0.5,
    sleep: (ms) => (slept.push(ms), Promise.resolve()),
  };
}

/** A client with a recording clock and 4 attempts, closed after the file's tests. */
export function faultyClient(
  options: RegistryClientOptions = {},
): RegistryClient & { clock: ReturnType<typeof recordingClock> } {
  const clock = recordingClock();
  const client = new RegistryClient({ clock, retry: { maxAttempts: 4 }, ...options });
  after(() => client.close());
  return Object.assign(client, { clock });
}

/** Shorthands over a bench for fault tests. */
export function faultTools(bench: RegistryBench): {
  rule: (method: string, path: RegExp, action: FaultRule["action"], times?: number) => void;
  via: (repository: string) => Reference;
  faults: (repository: string, kind: string) => number;
  assertStored: (repository: string, image: TestImage) => Promise<void>;
} {
  return {
    /** Adds a fault for `times` matching requests. */
    rule: (method: string, path: RegExp, action: FaultRule["action"], times = 1): void => {
      bench.proxy.rules.push({ method, path, action, times });
    },
    /** A reference to a repository through the proxy. */
    via: (repository: string): Reference => Reference.parse(`${bench.proxy.host}/${repository}`),
    /** How many requests to a repository got a fault of this kind. */
    faults: (repository: string, kind: string): number =>
      bench.proxy.requests.filter((r) => r.fault === kind && r.path.startsWith(`/v2/${repository}/`)).length,
    /** Checks, straight from the registry, that an image's blobs and manifest are complete. */
    assertStored: async (repository: string, image: TestImage): Promise<void> => {
      const location = { registry: bench.registry.host, repository };
      for (const blob of blobsOf(image)) {
        const chunks: Buffer[] = [];
        for await (const chunk of (await bench.direct.openBlob(
          location,
          blob.descriptor,
        )) as AsyncIterable<Buffer>)
          chunks.push(chunk);
        assert.deepEqual(Buffer.concat(chunks), blob.bytes);
      }
      const manifest = await bench.direct.getManifest(location, image.manifest.descriptor.digest);
      assert.deepEqual(manifest.bytes, image.manifest.bytes);
    },
  };
}
