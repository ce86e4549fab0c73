import type { CopyEvent } from "../image/copy.js";
import type { DependencyEvent } from "../dependencies/download.js";
import { formatBytes, shortDigest } from "./table.js";

/** Where progress goes: a terminal gets redrawn bars, anything else plain lines. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;
/** Transfers smaller than this are counted but get no bar of their own. */
const BAR_MIN_BYTES = 1024 * 1024;

/** What a reporter knows about the write it reports on. */
export interface ProgressOptions {
  /** The destination is a local layout or file: blobs are "written" there, not "uploaded". */
  local?: boolean;
  /** What a blob or manifest is, by digest (such as "linux/arm64 layer"), to name it beside its digest. */
  names?: ReadonlyMap<string, string>;
  /** What to call a manifest `names` does not know (a package's index, written last). */
  otherManifest?: string;
}

/** The words a blob's fate is reported with, for a registry and for a local destination. */
const RESULT_WORDS = {
  uploaded: { remote: "uploaded", local: "written" },
  mounted: { remote: "mounted", local: "mounted" },
  exists: { remote: "already there", local: "already there" },
  moved: { remote: "moved in", local: "moved in" },
} as const;

/**
 * Turns copy and download events into progress output. On a terminal it redraws one bar per
 * large transfer in flight and an overall bar; otherwise it prints one plain line per finished
 * transfer, which is what CI logs want.
 */
export class ProgressReporter {
  private readonly active = new Map<string, { label: string; size: number; done: number }>();
  private total = 0;
  private done = 0;
  private drawnLines = 0;
  private lastDraw = 0;
  private readonly tags: string[] = [];

  constructor(
    private readonly sink: ProgressSink,
    private readonly options: ProgressOptions = {},
  ) {}

  /** Handles one event of a copy. */
  readonly onEvent = (event: CopyEvent): void => {
    switch (event.type) {
      case "plan":
        this.total += event.bytes;
        this.line(
          `${this.options.local ? "writing" : "copying"} ${count(event.manifests, "manifest")} and ${count(event.blobs, "blob")} (${formatBytes(event.bytes)})`,
        );
        break;
      case "blob-start":
        this.start(event.descriptor.digest, this.name(event.descriptor.digest), event.descriptor.size);
        break;
      case "blob-progress":
        this.advance(event.descriptor.digest, event.bytesDone);
        break;
      case "blob-done":
        this.finishOne(
          event.descriptor.digest,
          event.descriptor.size,
          `blob ${this.name(event.descriptor.digest)} ${formatBytes(event.descriptor.size)} ${RESULT_WORDS[event.result][this.options.local ? "local" : "remote"]}`,
        );
        break;
      case "manifest-done":
        this.line(`${this.manifestName(event.descriptor.digest)} written`);
        break;
      case "tagged":
        this.tagged(event.tags);
        break;
    }
  };

  /** Handles one event of an offline dependency download. */
  readonly onDependency = (event: DependencyEvent): void => {
    const key = `dependency ${event.digest}`;
    const label = `${event.id} ${event.version}`;
    switch (event.type) {
      case "start":
        this.total += event.size ?? 0;
        this.start(key, label, event.size ?? 0);
        break;
      case "progress":
        this.advance(key, event.bytesDone);
        break;
      case "done":
        this.finishOne(
          key,
          event.bytesDone,
          `downloaded ${label} for ${event.target} (${formatBytes(event.bytesDone)})`,
        );
        break;
      case "cached":
        this.line(`cached ${label} for ${event.target}`);
        break;
    }
  };

  /**
   * Notes tags written outside a copy (a package's per-architecture tags), so that the one "tagged"
   * line lists them with the others.
   */
  tagged(tags: readonly string[]): void {
    this.tags.push(...tags.filter((tag) => !this.tags.includes(tag)));
  }

  /** Removes the bars from the terminal, and prints every tag written on one line. */
  finish(): void {
    if (this.sink.isTTY) this.clear();
    if (this.tags.length > 0) this.line(`tagged ${this.tags.join(", ")}`);
    this.tags.length = 0;
  }

  private manifestName(digest: string): string {
    if (this.options.names?.has(digest)) return this.name(digest);
    return `${this.options.otherManifest ?? "manifest"} ${shortDigest(digest)}`;
  }

  private name(digest: string): string {
    const what = this.options.names?.get(digest);
    return what === undefined ? shortDigest(digest) : `${what} ${shortDigest(digest)}`;
  }

  private start(key: string, label: string, size: number): void {
    if (size >= BAR_MIN_BYTES) this.active.set(key, { label, size, done: 0 });
  }

  private advance(key: string, bytesDone: number): void {
    const entry = this.active.get(key);
    if (!entry) return;
    this.done += bytesDone - entry.done;
    entry.done = bytesDone;
    this.redraw(false);
  }

  private finishOne(key: string, size: number, line: string): void {
    const entry = this.active.get(key);
    this.done += size - (entry?.done ?? 0);
    this.active.delete(key);
    this.line(line);
    this.redraw(true);
  }

  private line(text: string): void {
    if (!this.sink.isTTY) this.sink.write(`${text}\n`);
  }

  private redraw(force: boolean): void {
    if (!this.sink.isTTY) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.clear();
    const lines = [...this.active.values()].map(({ label, done, size }) => bar(label, done, size));
    lines.push(bar("total", this.done, this.total));
    this.sink.write(lines.join("\n") + "\n");
    this.drawnLines = lines.length;
  }

  private clear(): void {
    if (this.drawnLines > 0) this.sink.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function bar(label: string, done: number, size: number): string {
  const fraction = size > 0 ? Math.min(1, done / size) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const name = label.length > 19 ? `${label.slice(0, 18)}…` : label.padEnd(19);
  return `${name} [${"=".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}] ${percent} ${formatBytes(done)} / ${formatBytes(size)}`;
}
