// Types for the tests that import the example (the example itself is plain JavaScript).
import type { Express } from 'express';

export declare const MODELS: readonly string[];

export interface ExampleApp {
  app: Express;
  /** `mock` or `openai`. */
  upstream: string;
  /** Stops the router (in-flight requests get `graceMs`), then the mock upstream. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export declare function createExampleApp(options?: { openaiApiKey?: string; chunkDelayMs?: number; /** Passed on to `createLlmProxyRouter`. */ routerOptions?: Record<string, unknown> }): Promise<ExampleApp>;

export declare function curlLine(baseUrl: string, options?: { stream?: boolean }): string;

export declare function listenAddress(env?: Record<string, string | undefined>): { port: number; host: string };

export declare function displayUrl(host: string, port: number): string;
