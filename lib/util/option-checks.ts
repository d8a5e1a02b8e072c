/** Number checks shared by every constructor that validates options; errors name the option. */
import { InvalidOptionError } from '../errors/errors.js';

export function nonNegativeMs(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, 'must be a number of milliseconds >= 0');
  }
  return value;
}

export function positiveMs(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, 'must be a number of milliseconds > 0');
  }
  return value;
}

export function positiveInteger(value: unknown, option: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(option, max === Number.MAX_SAFE_INTEGER ? 'must be an integer >= 1' : `must be an integer from 1 to ${max}`);
  }
  return value;
}
