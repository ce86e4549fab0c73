import assert from "node:assert/strict";
import { test } from "node:test";
import {
  defaultUserAgent,
  withLogging,
  withUserAgent,
  type RequestLogEvent,
} from "../../../src/http/logging.js";
import { networkError } from "../../../src/registry/errors.js";
import { scripted } from "../registry/transport-fakes.js";

test("the user agent is polypack/<version of package.json>", async () => {
  assert.match(defaultUserAgent(), /^polypack\/\d+\.\d+\.\d+/);
  const inner = scripted(() => ({ status: 200 }));
  await withUserAgent(inner, "polypack/9.9.9")({ method: "GET", url: new URL("http://127.0.0.1/v2/") });
  assert.equal(inner.seen[0]!.headers?.["user-agent"], "polypack/9.9.9");
});

test("logs every exchange with credentials and token parameters redacted", async () => {
  const events: RequestLogEvent[] = [];
  let clock = 0;
  const inner = scripted((request, i) =>
    i === 0
      ? { status: 200, headers: { "set-cookie": "session=abc" } }
      : networkError(new Error("reset"), request),
  );
  const send = withLogging(
    inner,
    (e) => events.push(e),
    () => (clock += 5),
  );
  const url = new URL("https://u:pw@auth.example.com/token?service=r&access_token=tok123");
  await send({ method: "GET", url, headers: { authorization: "Bearer tok123" } });
  await assert.rejects(send({ method: "HEAD", url }));
  assert.equal(events.length, 2);
  const text = JSON.stringify(events);
  assert.ok(!text.includes("tok123") && !text.includes("pw@") && !text.includes("abc"), text);
  assert.equal(events[0]!.requestHeaders["authorization"], "Bearer REDACTED");
  assert.equal(events[0]!.status, 200);
  assert.equal(events[0]!.durationMs, 5);
  assert.match(events[1]!.error ?? "", /cannot reach/);
  // The request that went out still carried the real header; only the log is redacted.
  assert.equal(inner.seen[0]!.headers?.["authorization"], "Bearer tok123");
});
