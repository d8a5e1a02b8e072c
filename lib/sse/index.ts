export { pipeSse } from './pipe.js';
export type { ClientWatch, PipeSseOptions, SseEndReason, SsePipeResult, StopWatch } from './pipe.js';
