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
  const m = members(text);
  return m.names.map((name, i) => [name, m.values[i]!]);
}

/**
 * The members of an object text, in order: each one's name, value text and whole text as
 * written (`"name":value`), and the index of each name.
 */
export interface Members {
  names: string[];
  values: string[];
  entries: string[];
  index: Map<string, number>;
}

/**
 * The members of the object `text`. With `like`, the members of another text of a similar
 * object (the same channel at the previous checkpoint), a member written exactly as one of
 * those, at the place expected, is taken from it with one comparison instead of a scan, and
 * shares its strings.
 */
export function members(text: string, like?: Members): Members {
  const out: Members = { names: [], values: [], entries: [], index: new Map() };
  let next = 0;
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
    if (like !== undefined && next < like.entries.length) {
      // The same bytes from the start of a member to the end of a complete value, then a
      // delimiter: the same member (strings and nesting are in the same state throughout).
      const e = like.entries[next]!;
      const after = text.charCodeAt(i + e.length);
      if ((after === COMMA || after === 0x7d || isSpace(after)) && text.slice(i, i + e.length) === e) {
        out.index.set(like.names[next]!, out.names.length);
        out.names.push(like.names[next]!);
        out.values.push(like.values[next]!);
        out.entries.push(e);
        next++;
        i += e.length;
        continue;
      }
    }
    const start = i;
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
    out.index.set(name, out.names.length);
    out.names.push(name);
    out.values.push(text.slice(i, vend));
    out.entries.push(text.slice(start, vend));
    i = vend;
    if (like !== undefined) {
      const was = like.index.get(name);
      if (was !== undefined && was >= next) next = was + 1;
    }
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
