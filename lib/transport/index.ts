export { createUndiciTransport } from './undici-transport.js';
export type { UndiciTransport, UndiciTransportOptions } from './undici-transport.js';
export { createFetchTransport } from './fetch-transport.js';
export type { FetchLike, FetchLikeResponse, UpstreamAbort, UpstreamRequest, UpstreamResponse, UpstreamTransport } from './types.js';
