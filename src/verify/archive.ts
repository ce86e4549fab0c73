import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { decompressed, peek } from "../layer/decompress.js";
import { readLayer } from "../layer/read-layer.js";
import { classifyProgram, withArmLevel, type ProgramKind } from "./elf.js";
import { makeScratchDir, removeScratchDir } from "../util/scratch-dir.js";

/** How many leading bytes of a file the checks look at: a tar header, so archives are told too. */
export const HEAD_BYTES = 512;

/** How deep archives inside archives are opened (a jar in a tarball in a layer is depth 2). */
const MAX_DEPTH = 3;

/** A zip member inside a stream is spooled to a file first; larger ones are not opened. */
const MAX_SPOOLED_ZIP_BYTES = 4 * 1024 * 1024 * 1024;

/** The archive formats verify opens. */
export type ArchiveFormat = "tar" | "gzip" | "xz" | "bzip2" | "zip";

/** A program found inside an archive: its path there (`a.tgz!bin/x` for nested ones) and what it is. */
export interface ArchivedProgram {
  path: string;
  kind: ProgramKind;
}

/** What an archive holds, as far as the architecture check cares. */
export interface ArchiveScan {
  format: ArchiveFormat;
  /** Regular files read. */
  files: number;
  /** ELF, Mach-O and PE files (scripts and data are left out: they run anywhere). */
  programs: ArchivedProgram[];
  /** Why the archive could not be read to its end, when it could not. */
  problem?: string;
}

/** The archive format that a file's first bytes announce, if any. */
export function archiveFormat(head: Uint8Array): ArchiveFormat | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 6 && Buffer.from(head.subarray(0, 6)).equals(XZ_MAGIC)) return "xz";
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return "bzip2";
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return "zip";
  }
  if (isTarHeader(head)) return "tar";
  return undefined;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

// POSIX ustar and GNU tar both write "ustar" at offset 257 of every header.
function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString("latin1") === "ustar";
}

/**
 * Reads an archive whose first bytes are `head` and whose whole content is `stream` (head
 * included), and lists the programs inside, opening archives within it too. Returns undefined when
 * the content is no archive verify reads (a gzip file that holds no tar, say). `file`, when the
 * content is a file on disk, lets a zip be read in place instead of spooled.
 */
export async function scanArchive(
  head: Uint8Array,
  stream: AsyncIterable<Uint8Array>,
  options: { file?: string; depth?: number } = {},
): Promise<ArchiveScan | undefined> {
  const format = archiveFormat(head);
  if (format === undefined) return undefined;
  const depth = options.depth ?? 1;
  if (format === "zip") return scanZip(stream, options.file, depth);
  const tar = format === "tar" ? stream : await decompress(format, stream);
  const { head: tarHead, rest } = await peek(tar, HEAD_BYTES);
  if (!isTarHeader(tarHead)) {
    await closeIterable(rest);
    return undefined;
  }
  return scanTar(format, rest, depth);
}

async function scanTar(
  format: ArchiveFormat,
  stream: AsyncIterable<Uint8Array>,
  depth: number,
): Promise<ArchiveScan> {
  const scan: ArchiveScan = { format, files: 0, programs: [] };
  try {
    for await (const entry of readLayer(stream, { compression: "none", context: `${format} archive` })) {
      if (entry.type !== "file") continue;
      scan.files++;
      await inspectMember(entry.path, entry.content, scan, depth);
    }
  } catch (error) {
    scan.problem = error instanceof Error ? error.message : String(error);
  }
  return scan;
}

/** Classifies one archive member from its head and opens it when it is an archive itself. */
async function inspectMember(
  path: string,
  content: AsyncIterable<Uint8Array>,
  scan: ArchiveScan,
  depth: number,
): Promise<void> {
  const { head, rest } = await peek(content, HEAD_BYTES);
  const kind = classifyProgram(head);
  if (kind.kind === "elf" || kind.kind === "foreign") {
    scan.programs.push({ path, kind: await withArmLevel(kind, rest) });
    await closeIterable(rest);
    return;
  }
  if (depth < MAX_DEPTH && archiveFormat(head) !== undefined) {
    const inner = await scanArchive(head, rest, { depth: depth + 1 });
    if (inner !== undefined) {
      scan.files += inner.files;
      for (const program of inner.programs)
        scan.programs.push({ ...program, path: `${path}!${program.path}` });
      if (inner.problem !== undefined) scan.problem ??= `${path}: ${inner.problem}`;
      return;
    }
  }
  await closeIterable(rest);
}

/**
 * xz and bzip2 go through Debian's `xz -dc` and `bzip2 -dc`: no npm library that reads them
 * installs from the offline cache without a native build, and both programs are in every Debian.
 */
async function decompress(
  format: "gzip" | "xz" | "bzip2",
  stream: AsyncIterable<Uint8Array>,
): Promise<AsyncIterable<Uint8Array>> {
  if (format === "gzip") return decompressed(stream, "gzip");
  return throughProgram(format === "xz" ? "xz" : "bzip2", ["-dc"], stream);
}

async function* throughProgram(
  program: string,
  args: string[],
  input: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
  const stderr: Buffer[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  // A reader that stops early closes stdin; the write error that follows is expected.
  child.stdin.on("error", () => undefined);
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (!child.stdin.write(chunk)) {
          await new Promise<void>((resolve) => {
            child.stdin.once("drain", resolve);
            child.stdin.once("close", resolve);
          });
        }
        if (child.stdin.destroyed) break;
      }
    } finally {
      child.stdin.end();
    }
  })();
  let finished = false;
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    const code = await exited;
    await feeding;
    finished = true;
    if (code !== 0) {
      throw new Error(
        `${program} -dc failed: ${Buffer.concat(stderr).toString("utf8").trim() || `exit ${code}`}`,
      );
    }
  } finally {
    if (!finished) {
      child.kill();
      await exited.catch(() => undefined);
      await feeding.catch(() => undefined);
    }
  }
}

async function scanZip(
  stream: AsyncIterable<Uint8Array>,
  file: string | undefined,
  depth: number,
): Promise<ArchiveScan> {
  const scan: ArchiveScan = { format: "zip", files: 0, programs: [] };
  let spoolDir: string | undefined;
  try {
    let path = file;
    if (path === undefined) {
      spoolDir = await makeScratchDir("polypack-verify-");
      path = join(spoolDir, "archive.zip");
      await spoolTo(stream, path);
    } else {
      await closeIterable(stream);
    }
    const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
    try {
      for await (const entry of zipEntries(zip)) {
        if (entry.fileName.endsWith("/")) continue;
        scan.files++;
        const content = await zip.openReadStreamPromise(entry);
        await inspectMember(entry.fileName, content, scan, depth);
        content.destroy();
      }
    } finally {
      zip.close();
    }
  } catch (error) {
    scan.problem = error instanceof Error ? error.message : String(error);
  } finally {
    if (spoolDir !== undefined) await removeScratchDir(spoolDir);
  }
  return scan;
}

async function spoolTo(stream: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  let size = 0;
  async function* capped(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      size += chunk.byteLength;
      if (size > MAX_SPOOLED_ZIP_BYTES) throw new Error(`zip archive over ${MAX_SPOOLED_ZIP_BYTES} bytes`);
      yield chunk;
    }
  }
  await pipeline(capped(), createWriteStream(path));
}

async function* zipEntries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const next = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const onEntry = (entry: yauzl.Entry): void => {
        cleanup();
        resolve(entry);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(undefined);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        zip.off("entry", onEntry);
        zip.off("end", onEnd);
        zip.off("error", onError);
      };
      zip.on("entry", onEntry);
      zip.on("end", onEnd);
      zip.on("error", onError);
      zip.readEntry();
    });
    if (next === undefined) return;
    yield next;
  }
}

/** Ends a stream that will not be read further, so its source (a file, a child process) is let go. */
async function closeIterable(stream: AsyncIterable<Uint8Array>): Promise<void> {
  const destroy = (stream as Partial<Readable>).destroy;
  if (typeof destroy === "function") {
    destroy.call(stream);
    return;
  }
  await (stream as AsyncGenerator<Uint8Array>).return?.(undefined);
}
