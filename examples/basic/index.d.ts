// Types for the tests that import the example (the example itself is plain JavaScript).
import type { Express } from 'express';

export declare const MODELS: readonly string[];

export interface ExampleApp {
  app: Express;
  /** `mock` or `openai`. */
  upstream: string;
  close(): Promise<void>;
}

export declare function createExampleApp(options?: { openaiApiKey?: string; chunkDelayMs?: number; /** Passed on to `createLlmProxyRouter`. */ routerOptions?: Record<string, unknown> }): Promise<ExampleApp>;

export declare function curlLine(baseUrl: string, options?: { stream?: boolean }): string;
