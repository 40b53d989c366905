/**
 * The members of a JSON object as texts, without parsing their values: the saver reads a
 * checkpoint record as text and hands each channel's text to the serializer, instead of
 * parsing the whole record and serializing every value again.
 *
 * The input must be valid JSON (it comes from the server, which stores only valid JSON);
 * whitespace between tokens is allowed. A value's text is returned exactly as stored.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index just past the string that starts (with its quote) at i. */
function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) throw new SyntaxError('unterminated string in JSON text');
    let b = q - 1;
    while (s.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** The index just past the value that starts at i (no leading whitespace). */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let j = i;
    while (j < s.length) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = skipString(s, j);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw new SyntaxError('unterminated object or array in JSON text');
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === 0x7d || d === 0x5d || isSpace(d)) break;
    j++;
  }
  return j;
}

/** [name, value text] for each member of the object `text`, in order. */
export function objectMembers(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x7b) throw new SyntaxError('JSON text is not an object');
  i++;
  for (;;) {
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x7d) return out;
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c !== QUOTE) throw new SyntaxError(`unexpected character in JSON object at ${i}`);
    const end = skipString(text, i);
    // Most names have no escape: slicing is much cheaper than JSON.parse.
    const raw = text.slice(i + 1, end - 1);
    const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
    i = end;
    while (isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== COLON) throw new SyntaxError(`expected ':' in JSON object at ${i}`);
    i++;
    while (isSpace(text.charCodeAt(i))) i++;
    const vend = skipValue(text, i);
    out.push([name, text.slice(i, vend)]);
    i = vend;
  }
}

/** The text of each element of the array `text`, in order. */
export function arrayElements(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x5b) throw new SyntaxError('JSON text is not an array');
  i++;
  for (;;) {
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x5d) return out;
    if (c === COMMA) {
      i++;
      continue;
    }
    if (i >= text.length) throw new SyntaxError('unterminated array in JSON text');
    const end = skipValue(text, i);
    out.push(text.slice(i, end));
    i = end;
  }
}

/** The first character of a JSON text, past any whitespace (NaN for an empty text). */
export function firstChar(text: string): number {
  let i = 0;
  while (isSpace(text.charCodeAt(i))) i++;
  return text.charCodeAt(i);
}
