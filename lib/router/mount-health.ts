/** Mounts the admin health routes when `adminKey` is set (filled in by the health service). */
import type { RequestHandler, Router } from 'express';
import type { ResolvedOptions } from './options.js';

export function mountHealth(_router: Router, _config: ResolvedOptions, _log: RequestHandler[]): () => Promise<void> {
  return async () => {};
}
