// Types for the test that imports the example (the example itself is plain JavaScript).
import type { Express } from 'express';
import type { Registry } from 'prom-client';

export interface ObservabilityApp {
  app: Express;
  registry: Registry;
  close(): Promise<void>;
}

export declare function createObservabilityApp(options?: { /** Passed on to `createLlmProxyRouter`. */ routerOptions?: Record<string, unknown> }): Promise<ObservabilityApp>;
