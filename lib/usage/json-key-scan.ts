/**
 * Finds a top-level key of a JSON object in raw bytes without parsing the document, working on a
 * window that holds the start or the end of it.
 *
 * Why raw search is sound: inside a JSON string every `"` is escaped, so the bytes `"usage"`
 * followed by `:` only occur where a key named `usage` is written (the opening quote must also be
 * unescaped, which rules out a key like `a \"usage`). Whether that key belongs to the top-level
 * object is told by its depth, counted from the known end of the window: from the document's
 * start going forward, or from its end going backward. Strings are skipped whole;
 * a quote is a delimiter when an even number of backslashes precedes it (going backward from
 * outside any string, the first quote met always closes one).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** True when the quote at `at` ends or starts a string (it is not escaped). */
function isDelimiter(bytes: Buffer, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; i >= 0 && bytes[i] === BACKSLASH; i--) backslashes++;
  return (backslashes & 1) === 0;
}

/** Positions of the opening quote of every `"<key>"` followed by `:` in `bytes`, ascending. */
export function keyPositions(bytes: Buffer, quotedKey: Buffer): number[] {
  const found: number[] = [];
  let at = bytes.indexOf(quotedKey);
  while (at !== -1) {
    let next = at + quotedKey.length;
    while (next < bytes.length && isWhitespace(bytes[next])) next++;
    if (bytes[next] === COLON && isDelimiter(bytes, at)) found.push(at);
    at = bytes.indexOf(quotedKey, at + 1);
  }
  return found;
}

/** The closing quote of the string opened at `open`, or -1 when the window ends first. */
function closingQuote(bytes: Buffer, open: number): number {
  let at = bytes.indexOf(QUOTE, open + 1);
  while (at !== -1 && !isDelimiter(bytes, at)) at = bytes.indexOf(QUOTE, at + 1);
  return at;
}

/**
 * The opening quote of the string closed at `close`, or -1 when the window starts first. A loop
 * rather than `lastIndexOf`: the strings met near the end of an answer are short, and each
 * `lastIndexOf` is a call into C++ that costs more than walking them.
 */
function openingQuote(bytes: Buffer, close: number): number {
  for (let at = close - 1; at >= 0; at--) {
    if (bytes[at] === QUOTE && isDelimiter(bytes, at)) return at;
  }
  return -1;
}

/** True when `bytes` holds `name` from `at` on (a loop, as above: `compare` is a call into C++). */
function holdsAt(bytes: Buffer, at: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) {
    if (bytes[at + i] !== name[i]) return false;
  }
  return true;
}

/**
 * The last of `keys` (ascending opening-quote positions) that sits directly in the top-level
 * object, or -1. `bytes` must start where the document starts.
 */
export function lastTopLevelKeyFromStart(bytes: Buffer, keys: readonly number[]): number {
  let found = -1;
  let k = 0;
  let depth = 0;
  let i = 0;
  while (i < bytes.length && k < keys.length) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      if (keys[k] === i) {
        if (depth === 1) found = i;
        k++;
      }
      const close = closingQuote(bytes, i);
      if (close === -1) break;
      while (k < keys.length && keys[k] <= close) k++; // inside a string: not keys
      i = close + 1;
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
    i++;
  }
  return found;
}

/**
 * The object value of the last top-level `name` key of the document whose end `bytes` holds
 * (trailing whitespace allowed), found in one pass back from the end; undefined when the key is
 * not there or its value is not an object. The object value last passed at depth 1 is remembered
 * (a comma at depth 1 forgets it), so when the key turns up its value is already delimited.
 */
export function topLevelObjectFromEnd(bytes: Buffer, name: Buffer): Buffer | undefined {
  let depth = 0;
  let valueStart = -1;
  let valueEnd = -1;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const open = openingQuote(bytes, i);
      if (open === -1) return undefined; // the window starts inside this string
      if (depth === 1 && i - open - 1 === name.length && holdsAt(bytes, open + 1, name) && isKey(bytes, i + 1)) {
        return valueStart === -1 ? undefined : bytes.subarray(valueStart, valueEnd + 1);
      }
      i = open;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (depth === 1) {
        valueEnd = byte === CLOSE_BRACE ? i : -1;
        valueStart = -1;
      }
      depth++;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth--;
      if (depth === 1 && valueEnd !== -1) valueStart = i;
    } else if (byte === COMMA && depth === 1) {
      valueStart = -1;
      valueEnd = -1;
    }
  }
  return undefined;
}

/** True when a colon follows `from` (after whitespace): the string before `from` is a key. */
function isKey(bytes: Buffer, from: number): boolean {
  let i = from;
  while (i < bytes.length && isWhitespace(bytes[i])) i++;
  return bytes[i] === COLON;
}

/**
 * The bytes of the object value of the key whose opening quote is at `key`, or undefined when the
 * value is not an object or does not end inside the window.
 */
export function objectValueAt(bytes: Buffer, key: number, quotedKeyLength: number): Buffer | undefined {
  let i = key + quotedKeyLength;
  while (i < bytes.length && isWhitespace(bytes[i])) i++;
  i++; // the colon
  while (i < bytes.length && isWhitespace(bytes[i])) i++;
  if (bytes[i] !== OPEN_BRACE) return undefined;
  const start = i;
  let depth = 0;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const close = closingQuote(bytes, i);
      if (close === -1) return undefined;
      i = close + 1;
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return bytes.subarray(start, i + 1);
    i++;
  }
  return undefined;
}
