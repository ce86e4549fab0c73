import { Readable } from "node:stream";
import type { RegistryRequest, RegistryResponse, RegistrySend as Send } from "../../../src/registry/http.js";
import type { Clock } from "../../../src/http/retry-policy.js";

/** A clock that records requested sleeps instead of waiting. */
export function fakeClock(
  random = 0.5,
  start = Date.parse("2025-01-01T00:00:00Z"),
): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => random,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** A canned answer for the scripted request function. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A response value, as the connection layer would produce one. */
export function response(request: RegistryRequest, answer: Answer): RegistryResponse {
  return {
    status: answer.status,
    headers: answer.headers ?? {},
    body: Readable.from([Buffer.from(answer.body ?? "")]),
    url: request.url,
  };
}

/**
 * A request function for testing one wrapper alone: answers come from `reply`, and every request
 * it was given is kept (with headers) for assertions.
 */
export function scripted(
  reply: (request: RegistryRequest, index: number) => Answer | Error,
): Send & { seen: RegistryRequest[] } {
  const seen: RegistryRequest[] = [];
  const send = (request: RegistryRequest): Promise<RegistryResponse> => {
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(response(request, answer));
  };
  return Object.assign(send, { seen });
}
