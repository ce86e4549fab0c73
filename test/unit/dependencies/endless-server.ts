// A local HTTP server for download-cap tests: fixed files, a body that never ends, and a body whose
// Content-Length is far over any cap. It counts what it sent, so a test can see a download stopped.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Paths with a special answer; any other path is looked up in `files`. */
export const ENDLESS_PATH = "/endless.tgz";
/** Announces 64 GiB, then streams like the endless path. */
export const HUGE_PATH = "/huge.tgz";
/** An HTTP 500 whose error page never ends. */
export const ENDLESS_ERROR_PATH = "/endless-error.tgz";

/** The server; `stop()` when done. */
export class DownloadServer {
  readonly files = new Map<string, Buffer>();
  /** Bytes written by endless and huge answers, all requests together. */
  streamed = 0;
  /** Requests seen per path. */
  readonly requests = new Map<string, number>();
  base = "";
  private readonly aliases = new Map<string, string>();
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const asked = request.url ?? "";
      const path = this.aliases.get(asked) ?? asked;
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      if (path === ENDLESS_PATH) return this.stream(response, {});
      if (path === HUGE_PATH) return this.stream(response, { "content-length": String(64 * 1024 ** 3) });
      if (path === ENDLESS_ERROR_PATH) return this.stream(response, {}, 500);
      const body = this.files.get(path);
      if (body === undefined) return void response.writeHead(404).end();
      response.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answers `path` as `target` is answered (for example the endless body). */
  alias(path: string, target: string): void {
    this.aliases.set(path, target);
  }

  /** Writes 64 KiB chunks, honouring backpressure, until the client goes away. */
  private stream(response: ServerResponse, headers: Record<string, string>, status = 200): void {
    response.writeHead(status, headers);
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let open = true;
    response.on("close", () => (open = false));
    const pump = (): void => {
      while (open) {
        this.streamed += chunk.length;
        if (!response.write(chunk)) return void response.once("drain", pump);
      }
    };
    pump();
  }

  stop(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}
