import type { CopyEvent } from "../copy/copy.js";
import { formatBytes, shortDigest } from "./table.js";

/** Where progress goes: a terminal gets redrawn bars, anything else plain lines. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns?: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/**
 * Turns copy events into progress output. On a terminal it redraws one bar per blob in flight and
 * an overall bar; otherwise it prints a plain line when each blob finishes. Small blobs (under
 * 1 MiB) are counted but get no bar of their own.
 */
export class ProgressReporter {
  private readonly active = new Map<string, { size: number; done: number }>();
  private total = 0;
  private done = 0;
  private drawnLines = 0;
  private lastDraw = 0;

  constructor(private readonly sink: ProgressSink) {}

  /** Handles one event. */
  readonly onEvent = (event: CopyEvent): void => {
    switch (event.type) {
      case "plan":
        this.total = event.bytes;
        if (!this.sink.isTTY) {
          this.sink.write(
            `copying ${event.manifests} manifests and ${event.blobs} blobs (${formatBytes(event.bytes)})\n`,
          );
        }
        break;
      case "blob-start":
        if (event.descriptor.size >= 1024 * 1024) {
          this.active.set(event.descriptor.digest, { size: event.descriptor.size, done: 0 });
        }
        break;
      case "blob-progress": {
        const entry = this.active.get(event.descriptor.digest);
        if (entry) {
          this.done += event.bytesDone - entry.done;
          entry.done = event.bytesDone;
        }
        this.redraw(false);
        break;
      }
      case "blob-done": {
        const entry = this.active.get(event.descriptor.digest);
        this.done += event.descriptor.size - (entry?.done ?? 0);
        this.active.delete(event.descriptor.digest);
        if (!this.sink.isTTY) {
          this.sink.write(
            `blob ${shortDigest(event.descriptor.digest)} ${formatBytes(event.descriptor.size)} ${event.result}\n`,
          );
        }
        this.redraw(true);
        break;
      }
      case "manifest-done":
        if (!this.sink.isTTY) this.sink.write(`manifest ${shortDigest(event.descriptor.digest)} written\n`);
        break;
      case "tagged":
        if (!this.sink.isTTY) this.sink.write(`tagged ${event.tags.join(", ")}\n`);
        break;
    }
  };

  /** Removes the bars from the terminal. */
  finish(): void {
    if (this.sink.isTTY) this.clear();
  }

  private redraw(force: boolean): void {
    if (!this.sink.isTTY) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.clear();
    const lines = [...this.active.entries()].map(([digest, { size, done }]) =>
      bar(shortDigest(digest), done, size),
    );
    lines.push(bar("total", this.done, this.total));
    this.sink.write(lines.join("\n") + "\n");
    this.drawnLines = lines.length;
  }

  private clear(): void {
    if (this.drawnLines > 0) this.sink.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }
}

function bar(label: string, done: number, size: number): string {
  const fraction = size > 0 ? Math.min(1, done / size) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label.padEnd(19)} [${"=".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}] ${percent} ${formatBytes(done)} / ${formatBytes(size)}`;
}
