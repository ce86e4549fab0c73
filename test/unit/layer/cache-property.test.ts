import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { collectDirectory } from "../../../src/layer/collect.js";
import type { LayerOptions } from "../../../src/layer/write-layer.js";
import { layerBytes } from "../../support/layer-bytes.js";
import { tempDir } from "../../support/tmp.js";

// Small cuts, so a few hundred KiB make many segments and members, stored and compressed alike.
const CUT = { segmentThreshold: 64 * 1024, memberSize: 64 * 1024 };
const FILES = ["a.txt", "b.bin", "c.txt", "d.bin", "e/f.txt", "e/g.bin"];

const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Content of a file: text compresses, random bytes do not (and are stored). */
function content(kind: "text" | "random", size: number, seed: number): Buffer {
  if (kind === "random") return randomBytes(size);
  const line = `line ${seed} of some compressible text\n`;
  return Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size));
}

type Edit =
  | { kind: "write"; file: number; text: boolean; size: number; seed: number }
  | { kind: "remove"; file: number }
  | { kind: "same-size-rewrite"; file: number }
  | { kind: "cache-delete"; pick: number }
  | { kind: "cache-truncate"; pick: number }
  | { kind: "cache-flip"; pick: number; at: number }
  | { kind: "cache-swap"; pick: number; other: number }
  | { kind: "encoder"; absoluteNames: boolean; seconds: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    file: fc.nat(FILES.length - 1),
    text: fc.boolean(),
    size: fc.oneof(fc.nat(3000), fc.integer({ min: 60_000, max: 300_000 })),
    seed: fc.nat(),
  }),
  fc.record({ kind: fc.constant("remove" as const), file: fc.nat(FILES.length - 1) }),
  fc.record({ kind: fc.constant("same-size-rewrite" as const), file: fc.nat(FILES.length - 1) }),
  fc.record({ kind: fc.constant("cache-delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("cache-truncate" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("cache-flip" as const), pick: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant("cache-swap" as const), pick: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant("encoder" as const),
    absoluteNames: fc.boolean(),
    seconds: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
);

async function cacheFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir, { recursive: true }).catch(() => [])) {
    if ((await stat(join(dir, name))).isFile()) found.push(join(dir, name));
  }
  return found.sort();
}

async function apply(
  step: Edit,
  source: string,
  cache: string,
  options: LayerOptions,
): Promise<LayerOptions> {
  const files = await cacheFiles(cache);
  const cached = (pick: number): string | undefined => files[pick % Math.max(1, files.length)];
  switch (step.kind) {
    case "write":
      await writeFile(
        join(source, FILES[step.file]!),
        content(step.text ? "text" : "random", step.size, step.seed),
      );
      return options;
    case "remove":
      await rm(join(source, FILES[step.file]!), { force: true });
      return options;
    case "same-size-rewrite": {
      // Other bytes, same size, and the old mtime put back: only the bytes tell.
      const path = join(source, FILES[step.file]!);
      const before = await stat(path).catch(() => undefined);
      if (!before) return options;
      const bytes = await readFile(path);
      for (let i = 0; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
      await writeFile(path, bytes);
      await utimes(path, before.atime, before.mtime);
      return options;
    }
    case "cache-delete": {
      const victim = cached(step.pick);
      if (victim) await rm(victim);
      return options;
    }
    case "cache-truncate": {
      const victim = cached(step.pick);
      if (victim) await truncate(victim, Math.floor((await stat(victim)).size / 2));
      return options;
    }
    case "cache-flip": {
      const victim = cached(step.pick);
      if (!victim) return options;
      const bytes = await readFile(victim);
      if (bytes.length === 0) return options;
      bytes[step.at % bytes.length] = bytes[step.at % bytes.length]! ^ 0x01;
      await writeFile(victim, bytes);
      return options;
    }
    case "cache-swap": {
      const [a, b] = [cached(step.pick), cached(step.other)];
      if (!a || !b || a === b) return options;
      await rename(a, `${a}.swap`);
      await rename(b, a);
      await rename(`${a}.swap`, b);
      return options;
    }
    case "encoder":
      // Other header bytes for the same files: what a changed tar encoder would write.
      return { ...options, absoluteNames: step.absoluteNames, mtime: new Date(step.seconds * 1000) };
  }
}

test("over any edits of files and of the cache, a write through the cache is byte for byte a write without it", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
      const source = await tempDir();
      const cache = await tempDir();
      await mkdir(join(source, "e"));
      await writeFile(join(source, "a.txt"), content("text", 90_000, 1));
      await writeFile(join(source, "b.bin"), content("random", 150_000, 2));
      let options: LayerOptions = { ...CUT };
      const check = async (): Promise<void> => {
        const entries = (): ReturnType<typeof collectDirectory> =>
          collectDirectory(source, { prefix: "/cnb/x" });
        const cached = await layerBytes(await entries(), { ...options, memberCache: cache });
        const plain = await layerBytes(await entries(), options);
        assert.ok(cached.blob.equals(plain.blob), "same bytes with and without the cache");
        assert.deepEqual({ ...cached.layer, members: undefined }, { ...plain.layer, members: undefined });
        assert.equal(cached.layer.diffID, sha256(gunzipSync(cached.blob)), "diffID is the tar's");
        assert.equal(cached.layer.descriptor.digest, sha256(cached.blob), "digest is the blob's");
      };
      await check();
      for (const step of edits) {
        options = await apply(step, source, cache, options);
        await check();
      }
    }),
    { numRuns: 30 },
  );
});
