// http.request/get and https.request/get as Node's, taking the same arguments, with the engine's
// Agent as the default: a request that names no agent (or `agent: false`, Node's "a new agent
// for this request") goes through the engine. An explicit Node agent or createConnection is
// respected.

import * as nodeHttp from 'node:http';
import * as nodeHttps from 'node:https';
import { Agent, HttpsAgent, globalAgent, httpsGlobalAgent } from './agent.js';

/** Where a request goes: a URL string or a URL. */
export type RequestUrl = string | URL;
/** https's options are http's plus TLS's: one type serves both. */
type Options = nodeHttps.RequestOptions;
/** Called with the response (Node's 'response' event). */
export type ResponseCallback = (res: nodeHttp.IncomingMessage) => void;
type RequestArgs = [RequestUrl | Options, (Options | ResponseCallback)?, ResponseCallback?];

/** The agent a request uses: the one it names, else `fallback` (a fresh one for agent: false). */
function engineAgent(
  options: Options | undefined,
  fallback: Agent | HttpsAgent,
): nodeHttp.Agent | undefined {
  const named = options?.agent;
  if (named instanceof nodeHttp.Agent) return named;
  if (options?.createConnection !== undefined) return undefined;
  if (named === false) return fallback instanceof HttpsAgent ? new HttpsAgent() : new Agent();
  return fallback;
}

/** Node's (url, options?, cb?) or (options, cb?) arguments with the agent filled in. */
function withAgent(args: RequestArgs, fallback: Agent | HttpsAgent): RequestArgs {
  const [first, second, third] = args;
  if (typeof first === 'string' || first instanceof URL) {
    const options = typeof second === 'object' ? second : undefined;
    const cb = typeof second === 'function' ? second : third;
    return [first, { ...options, agent: engineAgent(options, fallback) }, cb];
  }
  const cb = typeof second === 'function' ? second : undefined;
  return [{ ...first, agent: engineAgent(first, fallback) }, cb];
}

export function request(
  url: RequestUrl,
  options?: Options,
  cb?: ResponseCallback,
): nodeHttp.ClientRequest;
export function request(url: RequestUrl, cb?: ResponseCallback): nodeHttp.ClientRequest;
export function request(options: Options, cb?: ResponseCallback): nodeHttp.ClientRequest;
/** As Node's http.request; connections go through the engine. */
export function request(...args: RequestArgs): nodeHttp.ClientRequest {
  return (nodeHttp.request as (...a: RequestArgs) => nodeHttp.ClientRequest)(
    ...withAgent(args, globalAgent),
  );
}

export function get(
  url: RequestUrl,
  options?: Options,
  cb?: ResponseCallback,
): nodeHttp.ClientRequest;
export function get(url: RequestUrl, cb?: ResponseCallback): nodeHttp.ClientRequest;
export function get(options: Options, cb?: ResponseCallback): nodeHttp.ClientRequest;
/** As Node's http.get: a GET request, ended. */
export function get(...args: RequestArgs): nodeHttp.ClientRequest {
  const req = (request as (...a: RequestArgs) => nodeHttp.ClientRequest)(...args);
  req.end();
  return req;
}

export function httpsRequest(
  url: RequestUrl,
  options?: Options,
  cb?: ResponseCallback,
): nodeHttp.ClientRequest;
export function httpsRequest(url: RequestUrl, cb?: ResponseCallback): nodeHttp.ClientRequest;
export function httpsRequest(options: Options, cb?: ResponseCallback): nodeHttp.ClientRequest;
/** As Node's https.request; TLS over engine connections. */
export function httpsRequest(...args: RequestArgs): nodeHttp.ClientRequest {
  return (nodeHttps.request as (...a: RequestArgs) => nodeHttp.ClientRequest)(
    ...withAgent(args, httpsGlobalAgent),
  );
}

export function httpsGet(
  url: RequestUrl,
  options?: Options,
  cb?: ResponseCallback,
): nodeHttp.ClientRequest;
export function httpsGet(url: RequestUrl, cb?: ResponseCallback): nodeHttp.ClientRequest;
export function httpsGet(options: Options, cb?: ResponseCallback): nodeHttp.ClientRequest;
/** As Node's https.get. */
export function httpsGet(...args: RequestArgs): nodeHttp.ClientRequest {
  const req = (httpsRequest as (...a: RequestArgs) => nodeHttp.ClientRequest)(...args);
  req.end();
  return req;
}
