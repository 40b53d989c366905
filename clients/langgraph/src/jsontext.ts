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
 * The members of an object text, in order: each one's name, value text, and where it
 * starts and ends in `text` (from the quote of its name to the end of its value; `vstarts`:
 * where its value starts), with the index of each name. Values are slices of `text` only,
 * and names hold no slice of any text, so a split never keeps an older text alive.
 */
export interface Members {
  text: string;
  names: string[];
  values: string[];
  starts: number[];
  vstarts: number[];
  ends: number[];
  index: Map<string, number>;
  /** Per member, 1 when it was taken from the `like` this split was made with: equal to it. */
  taken: number[] | undefined;
}

/**
 * A copy of `s` that does not keep the text it was sliced from alive (V8 makes a slice of 13
 * characters or more a view of its parent).
 */
function detached(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function isEnd(c: number): boolean {
  return c === COMMA || c === 0x7d || isSpace(c);
}

/**
 * The members of the object `text`. With `like`, the members of another text of a similar
 * object (the same channel at the previous checkpoint), runs of members written exactly as
 * in `like`, where expected, are taken from it by comparing whole spans of text (a
 * galloping search) instead of scanning them, and share its strings; when every name is
 * where it was, the result shares `like`'s index too.
 */
export function members(text: string, like?: Members): Members {
  const names: string[] = [];
  const values: string[] = [];
  const starts: number[] = [];
  const vstarts: number[] = [];
  const ends: number[] = [];
  const taken: number[] = [];
  let aligned = like !== undefined;
  let next = 0;
  let i = 0;
  // Whether the `r` members of `like` from `next` on are written at `i` exactly as there,
  // followed by a delimiter: then they are the same members (strings and nesting are in the
  // same state throughout a span that starts at a member and ends after a complete value).
  const same = (r: number): boolean => {
    const from = like!.starts[next]!;
    const len = like!.ends[next + r - 1]! - from;
    return isEnd(text.charCodeAt(i + len)) && text.slice(i, i + len) === like!.text.slice(from, from + len);
  };
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x7b) throw new SyntaxError('JSON text is not an object');
  i++;
  for (;;) {
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x7d) break;
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c !== QUOTE) throw new SyntaxError(`unexpected character in JSON object at ${i}`);
    if (like !== undefined && next < like.names.length) {
      const left = like.names.length - next;
      let ok = 0;
      let r = 1;
      while (r <= left && same(r)) {
        ok = r;
        r *= 2;
      }
      let bad = Math.min(r, left + 1);
      while (bad - ok > 1) {
        const mid = (ok + bad) >> 1;
        if (same(mid)) ok = mid;
        else bad = mid;
      }
      if (ok > 0) {
        const shift = i - like.starts[next]!;
        for (let k = next; k < next + ok; k++) {
          if (names.length !== k) aligned = false;
          const vstart = like.vstarts[k]! + shift;
          const end = like.ends[k]! + shift;
          names.push(like.names[k]!);
          values.push(text.slice(vstart, end));
          starts.push(like.starts[k]! + shift);
          vstarts.push(vstart);
          ends.push(end);
          taken.push(1);
        }
        next += ok;
        i = ends[ends.length - 1]!;
        continue;
      }
    }
    const start = i;
    const end = skipString(text, i);
    // Most names have no escape: slicing is much cheaper than JSON.parse.
    const raw = text.slice(i + 1, end - 1);
    const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : detached(raw);
    i = end;
    while (isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== COLON) throw new SyntaxError(`expected ':' in JSON object at ${i}`);
    i++;
    while (isSpace(text.charCodeAt(i))) i++;
    const vend = skipValue(text, i);
    if (aligned && like!.names[names.length] !== name) aligned = false;
    names.push(name);
    values.push(text.slice(i, vend));
    starts.push(start);
    vstarts.push(i);
    ends.push(vend);
    taken.push(0);
    i = vend;
    if (like !== undefined) {
      const was = like.index.get(name);
      if (was !== undefined && was >= next) next = was + 1;
    }
  }
  let index: Map<string, number>;
  if (aligned && names.length === like!.names.length) index = like!.index;
  else {
    index = new Map();
    for (let k = 0; k < names.length; k++) index.set(names[k]!, k);
  }
  return { text, names, values, starts, vstarts, ends, index, taken: like === undefined ? undefined : taken };
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
