import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A referrer the proxy indexed: an index entry as the referrers API lists it. */
interface Listed {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A running referrers proxy. */
export interface ReferrersProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** GETs of the referrers API it answered, by path. */
  referrersGets: string[];
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

/**
 * Puts the OCI 1.1 referrers API in front of a registry that lacks it (Debian's docker-registry):
 * a manifest PUT whose body has a `subject` is forwarded, indexed, and answered with the
 * `OCI-Subject` header, and `GET /v2/<name>/referrers/<digest>` lists what was indexed for that
 * subject (an empty index when nothing was), with `artifactType` filtering, as a registry that
 * supports the API answers. Everything else is forwarded untouched.
 */
export async function startReferrersProxy(upstreamUrl: string): Promise<ReferrersProxy> {
  const upstream = new URL(upstreamUrl);
  const indexed = new Map<string, Listed[]>(); // `<name>@<subject digest>` -> referrers
  const referrersGets: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === "GET" && referrers) {
      referrersGets.push(url.pathname);
      const wanted = url.searchParams.get("artifactType");
      const manifests = (indexed.get(`${referrers[1]}@${referrers[2]}`) ?? []).filter(
        (m) => wanted === null || m.artifactType === wanted,
      );
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests,
      });
      res.writeHead(200, {
        "content-type": "application/vnd.oci.image.index.v1+json",
        ...(wanted !== null ? { "oci-filters-applied": "artifactType" } : {}),
      });
      res.end(body);
      return;
    }
    const manifest = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname);
    if (req.method === "PUT" && manifest) {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        let parsed: {
          subject?: { digest?: string };
          artifactType?: string;
          annotations?: Record<string, string>;
        };
        try {
          parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
        } catch {
          parsed = {};
        }
        send(upstream, req, res, body, (status, headers): Record<string, string> => {
          const subject = parsed.subject?.digest;
          const digest = headers["docker-content-digest"];
          if (status !== 201 || subject === undefined || typeof digest !== "string") return {};
          const key = `${manifest[1]!}@${subject}`;
          const list = (indexed.get(key) ?? []).filter((m) => m.digest !== digest);
          list.push({
            mediaType: String(req.headers["content-type"] ?? ""),
            digest,
            size: body.length,
            ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
            ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
          });
          indexed.set(key, list);
          return { "oci-subject": subject };
        });
      });
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, cleanHeaders(reply, upstream, host));
        reply.pipe(res);
      },
    );
    forward.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    referrersGets,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(
  upstream: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  extra: (status: number, headers: IncomingMessage["headers"]) => Record<string, string>,
): void {
  const headers = { ...req.headers, "content-length": String(body.length) };
  const forward = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
    (reply) => {
      const added = extra(reply.statusCode ?? 502, reply.headers);
      res.writeHead(reply.statusCode ?? 502, {
        ...cleanHeaders(reply, upstream, req.headers.host ?? ""),
        ...added,
      });
      reply.pipe(res);
    },
  );
  forward.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  forward.end(body);
}

// Hop-by-hop headers stay behind; a Location naming the registry names the proxy instead.
function cleanHeaders(
  reply: IncomingMessage,
  upstream: URL,
  host: string,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(reply.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = name === "location" ? String(value).replace(`//${upstream.host}`, `//${host}`) : value;
  }
  return headers;
}
