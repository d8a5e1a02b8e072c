/**
 * Where an SSE stream stands after the bytes forwarded so far: at an event boundary or inside an
 * event. Only the last three bytes matter; they are kept packed in a number (oldest first,
 * `a << 16 | b << 8 | c`), so following a stream allocates nothing per chunk.
 */

const LF = 0x0a;
const CR = 0x0d;

/** A stream starts at an event boundary. */
export const START_OF_STREAM = (LF << 16) | (LF << 8) | LF;

/**
 * True when `tail` ends an event: a line terminator (CRLF, LF or CR) right after another one,
 * i.e. a blank line, in any mix of newline styles. `x\r\n` ends a line but not an event, so CRLF
 * is stripped as a unit before looking back.
 */
export function endsEvent(tail: number): boolean {
  const a = tail >>> 16;
  const b = (tail >>> 8) & 0xff;
  const c = tail & 0xff;
  let before: number; // the byte before the final line terminator
  if (b === CR && c === LF) {
    before = a;
  } else if (c === LF || c === CR) {
    before = b;
  } else {
    return false;
  }
  return before === LF || before === CR;
}

/** The last three bytes after `chunk`, given the three before it. */
export function nextTail(tail: number, chunk: Buffer): number {
  const n = chunk.length;
  if (n >= 3) {
    return (chunk[n - 3] << 16) | (chunk[n - 2] << 8) | chunk[n - 1];
  }
  for (let i = 0; i < n; i++) {
    tail = ((tail << 8) | chunk[i]) & 0xffffff;
  }
  return tail;
}
