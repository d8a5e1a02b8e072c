// Types for the tests that import the example's logger (plain JavaScript).
import type { Writable } from 'node:stream';
import type { Logger } from 'winston';

export declare function createExampleLogger(options?: { pretty?: boolean; stream?: Writable }): Logger;
