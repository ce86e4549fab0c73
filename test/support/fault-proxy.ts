import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

/** What to do to a matching request. */
export type FaultAction =
  /** Answer without forwarding, e.g. 500, 503 or 429 with a Retry-After header. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Forward the request, but cut both connections after this many request body bytes. */
  | { kind: "drop"; afterBytes: number }
  /** Wait before forwarding, so the answer is slow. */
  | { kind: "delay"; ms: number }
  /** Answer with a redirect to the same path on another base URL. */
  | { kind: "redirect"; to: string; status?: number }
  /** Forward, but flip one byte in the middle of the response body (same length). */
  | { kind: "corrupt" }
  /** Forward, but cut the connection after half of the response body. */
  | { kind: "truncate" }
  /** Forward the headers and half of the response body, then send nothing more (until stopped). */
  | { kind: "stall" }
  /** Forward, adding these headers to the answer (e.g. OCI-Chunk-Min-Length). */
  | { kind: "headers"; headers: Record<string, string> };

/** Which requests a fault applies to. */
export interface FaultRule {
  method?: string;
  /** Tested against the path with its query string. */
  path?: RegExp;
  /** Matching requests to let through untouched first. */
  skip?: number;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  action: FaultAction;
}

/** A request as the proxy saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The fault applied, if any. */
  fault?: FaultAction["kind"];
  /** The status sent back (set once known). */
  status?: number;
  /** Bytes of request body forwarded so far (what a client uploaded through the proxy). */
  bodyBytes: number;
}

/** A running proxy; `rules` and `requests` may be changed and read at any time. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  rules: FaultRule[];
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

function takeRule(
  rules: FaultRule[],
  counts: WeakMap<FaultRule, number>,
  req: IncomingMessage,
): FaultRule | undefined {
  for (const rule of rules) {
    if (rule.method && rule.method !== req.method) continue;
    if (rule.path && !rule.path.test(req.url ?? "")) continue;
    const seen = counts.get(rule) ?? 0;
    counts.set(rule, seen + 1);
    const skip = rule.skip ?? 0;
    if (seen >= skip && seen < skip + (rule.times ?? 1)) return rule;
  }
  return undefined;
}

function forward(
  target: URL,
  proxyHost: string,
  req: IncomingMessage,
  res: ServerResponse,
  record: RecordedRequest,
  action?: FaultAction,
): void {
  const upstream = httpRequest(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (reply) => {
      record.status = reply.statusCode;
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(reply.headers)) {
        if (value === undefined || HOP_BY_HOP.has(name)) continue;
        headers[name] =
          name === "location" ? String(value).replace(`//${target.host}`, `//${proxyHost}`) : value;
      }
      res.writeHead(reply.statusCode ?? 502, {
        ...headers,
        ...(action?.kind === "headers" ? action.headers : {}),
      });
      if (action?.kind !== "corrupt" && action?.kind !== "truncate" && action?.kind !== "stall") {
        reply.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      reply.on("data", (chunk: Buffer) => chunks.push(chunk));
      reply.on("end", () => {
        const body = Buffer.concat(chunks);
        if (action.kind === "truncate") {
          res.write(body.subarray(0, body.length >> 1), () => res.destroy());
          return;
        }
        if (action.kind === "stall") {
          res.write(body.subarray(0, body.length >> 1));
          return;
        }
        const middle = body.length >> 1;
        if (body.length > 0) body.writeUInt8(body.readUInt8(middle) ^ 0xff, middle);
        res.end(body);
      });
    },
  );
  upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  if (action?.kind !== "drop") {
    req.on("data", (chunk: Buffer) => (record.bodyBytes += chunk.length));
    req.pipe(upstream);
    return;
  }
  let seen = 0;
  req.on("data", (chunk: Buffer) => {
    if (seen + chunk.length <= action.afterBytes) {
      seen += chunk.length;
      upstream.write(chunk);
      return;
    }
    upstream.write(chunk.subarray(0, action.afterBytes - seen));
    upstream.destroy();
    req.socket.destroy();
  });
  req.on("end", () => upstream.end());
}

async function handle(
  target: URL,
  proxy: FaultProxy,
  counts: WeakMap<FaultRule, number>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const record: RecordedRequest = {
    method: req.method ?? "",
    path: req.url ?? "",
    headers: req.headers,
    bodyBytes: 0,
  };
  proxy.requests.push(record);
  const action = takeRule(proxy.rules, counts, req)?.action;
  if (action) record.fault = action.kind;
  if (action?.kind === "status" || action?.kind === "redirect") {
    // Read the whole request first so the client is not cut off while still sending.
    for await (const _chunk of req) {
      // discard
    }
    record.status = action.kind === "status" ? action.status : (action.status ?? 307);
    const headers =
      action.kind === "status" ? (action.headers ?? {}) : { location: `${action.to}${req.url ?? ""}` };
    res.writeHead(record.status, { ...headers, "content-type": "application/json" });
    res.end(action.kind === "status" && req.method !== "HEAD" ? (action.body ?? "") : "");
    return;
  }
  if (action?.kind === "delay") await delay(action.ms);
  forward(target, proxy.host, req, res, record, action);
}

/**
 * Starts an HTTP proxy on 127.0.0.1 in front of `targetUrl` that forwards everything faithfully
 * (streaming both ways, Location rewritten to the proxy) except requests matching a rule, and
 * records every request it sees.
 */
export async function startFaultProxy(targetUrl: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const counts = new WeakMap<FaultRule, number>();
  const proxy: FaultProxy = { host: "", url: "", rules, requests: [], stop: () => Promise.resolve() };
  const server = createServer((req, res) => {
    handle(target, proxy, counts, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
