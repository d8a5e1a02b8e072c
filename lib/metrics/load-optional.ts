/**
 * Loads an optional peer dependency when the feature that needs it is set up. The router is built
 * synchronously, so this uses require (through createRequire) rather than a dynamic import; the
 * main entry therefore never loads prom-client or @opentelemetry/api unless asked to.
 */
import { createRequire } from 'node:module';
import { InvalidOptionError } from '../errors/errors.js';

const requireOptional = createRequire(import.meta.url);

export function loadOptional<T>(name: string, option: string): T {
  try {
    return requireOptional(name) as T;
  } catch (error) {
    throw new InvalidOptionError(option, `needs the optional package ${name}; install it (npm install ${name})`, { cause: error });
  }
}
