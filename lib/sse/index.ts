export { pipeSse } from './pipe.js';
export type { PipeSseOptions, SseEndReason, SsePipeResult, StopWatch } from './pipe.js';
export type { ClientWatch } from '../http/client-connection.js';
