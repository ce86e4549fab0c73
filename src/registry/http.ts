import type { HttpRequest, HttpResponse, Send } from "../http/message.js";

/** A request to a registry: an HTTP request plus the token scopes it needs. */
export interface RegistryRequest extends HttpRequest {
  /** Token scopes the request needs, e.g. `repository:org/app:pull,push`. */
  scopes?: readonly string[];
}

/** A registry's answer: a plain HTTP response. */
export type RegistryResponse = HttpResponse;

/** The request function of the registry's layers. */
export type RegistrySend = Send<RegistryRequest>;
