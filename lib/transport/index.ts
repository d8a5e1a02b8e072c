export { createUndiciTransport } from './undici-transport.js';
export type { UndiciTransport, UndiciTransportOptions } from './undici-transport.js';
export { createFetchTransport } from './fetch-transport.js';
export { decodeBody } from './decode.js';
export type { FetchLike, FetchLikeResponse, UpstreamRequest, UpstreamResponse, UpstreamTransport } from './types.js';
