export { pipeSse, sendSseHeaders, sseErrorEvent } from './pipe.js';
export type { PipeSseOptions, SseEndReason, SsePipeResult } from './pipe.js';
