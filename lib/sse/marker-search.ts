/**
 * Finds short marker strings in SSE bytes faster than Buffer#indexOf(Buffer), whose setup costs
 * more than the search itself on events of a few hundred bytes. Each marker is searched by one of
 * its bytes, the one least common in LLM JSON (native single-byte indexOf is a memchr), and each
 * hit is checked in place; after a few false hits the full needle search takes over, so text
 * dense with that byte cannot make it slow.
 */
import { InvalidOptionError } from '../errors/errors.js';

export interface CompiledMarker {
  readonly bytes: Buffer;
  /** The byte searched for, and where it sits in the marker. */
  readonly anchor: number;
  readonly anchorAt: number;
}

/** Bytes of SSE JSON from the most common on; a byte not listed counts as rarer than all. */
const COMMON = Buffer.from(' "etaoinsrlhdcu:,mpf{}gyw.b0v1_2k');
const FALSE_HITS_BEFORE_FULL_SEARCH = 8;

const compiled = new WeakMap<readonly string[], readonly CompiledMarker[]>();

/** Validates and encodes `markers`; frozen arrays are done once and remembered. */
export function compileMarkers(markers: readonly string[]): readonly CompiledMarker[] {
  const known = compiled.get(markers);
  if (known !== undefined) return known;
  if (!Array.isArray(markers) || markers.length === 0 || !markers.every((m) => typeof m === 'string' && m.length > 0)) {
    throw new InvalidOptionError('markers', 'must be a non-empty array of non-empty strings');
  }
  const result = Object.freeze(markers.map(compileMarker));
  if (Object.isFrozen(markers)) compiled.set(markers, result);
  return result;
}

function compileMarker(marker: string): CompiledMarker {
  const bytes = Buffer.from(marker, 'utf8');
  let anchorAt = 0;
  let rarest = -1;
  for (let i = 0; i < bytes.length; i++) {
    const rank = COMMON.indexOf(bytes[i]);
    const rarity = rank === -1 ? COMMON.length : rank;
    if (rarity > rarest) {
      rarest = rarity;
      anchorAt = i;
    }
  }
  return { bytes, anchor: bytes[anchorAt], anchorAt };
}

/** Where `marker` starts in `haystack` at or after `from`, or -1. */
export function findMarker(haystack: Buffer, marker: CompiledMarker, from: number): number {
  const { bytes, anchor, anchorAt } = marker;
  const last = haystack.length - bytes.length; // the last possible start
  let at = from + anchorAt;
  for (let misses = 0; misses < FALSE_HITS_BEFORE_FULL_SEARCH; misses++) {
    const hit = haystack.indexOf(anchor, at);
    const start = hit - anchorAt;
    if (hit === -1 || start > last) return -1;
    if (matchesAt(haystack, bytes, start)) return start;
    at = hit + 1;
  }
  return haystack.indexOf(bytes, at - anchorAt);
}

function matchesAt(haystack: Buffer, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (haystack[start + i] !== bytes[i]) return false;
  }
  return true;
}
