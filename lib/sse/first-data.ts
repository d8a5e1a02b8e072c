/**
 * Finds the first `data` field of an SSE stream, across chunks, so that comment lines
 * (`: processing`) an upstream sends while it thinks do not count as its first token. Only the
 * chunks before that one are scanned.
 */

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const DATA = [0x64, 0x61, 0x74, 0x61]; // "data"

export class FirstDataDetector {
  /** Bytes of "data" matched at the start of the current line; -1 when the line is something else. */
  #matched = 0;

  /** True when `chunk` completes a line that starts with the field name `data`. */
  found(chunk: Buffer): boolean {
    let matched = this.#matched;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF || byte === CR) {
        if (matched === DATA.length) return true; // a bare `data` line is a data field too
        matched = 0;
      } else if (matched === DATA.length) {
        if (byte === COLON) return true;
        matched = -1; // `database: …` is another field
      } else if (matched >= 0) {
        matched = byte === DATA[matched] ? matched + 1 : -1;
      }
    }
    this.#matched = matched;
    return false;
  }
}
