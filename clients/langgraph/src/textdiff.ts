/**
 * The RFC 6902 JSON Patch between two JSON texts, found on the texts: what diff() in
 * jsonpatch.ts computes on parsed values, without parsing or serializing anything. Objects
 * are split into member texts and arrays into element texts (jsontext.ts); equal texts are
 * skipped whole, and only the members and elements that differ are split further. Op values
 * are slices of the new text, sent as they are.
 *
 * The rules are those of diff(): objects member by member (order does not matter), arrays
 * appended to, of the same length compared element by element, slid (up to 8 dropped at
 * the front), or else replaced; with an `opCost`, a subtree whose ops cost more than
 * replacing it is replaced. Texts are compared as texts: two texts of one value written
 * differently (member order, whitespace) are descended into, never taken as equal.
 */
import { pointerToken } from './jsonpatch.js';
import { arrayElements, firstChar, members, type Members } from './jsontext.js';

/** One op, its value as JSON text. */
export interface TextOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: string;
}

/** A JSON text split one level: the members of an object or the elements of an array. */
export type Split = { kind: 'object'; members: Members } | { kind: 'array'; elements: string[] } | null;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;

/**
 * `text` split one level (null for a scalar); `like`, the split of a similar text, spares
 * scanning the members they share.
 */
export function split(text: string, like?: Split): Split {
  const c = firstChar(text);
  if (c === OPEN_OBJECT) {
    return { kind: 'object', members: members(text, like?.kind === 'object' ? like.members : undefined) };
  }
  if (c === OPEN_ARRAY) return { kind: 'array', elements: arrayElements(text) };
  return null;
}

/**
 * Appends to `ops` the ops that turn the JSON text `from` into `to` at `path`. `fromSplit`
 * and `toSplit`, when given, are those texts split (a caller that keeps them saves the
 * work); `toSplit` is computed when needed and returned.
 */
export function diffText(
  from: string,
  to: string,
  path: string,
  ops: TextOp[],
  opCost = 0,
  fromSplit?: Split,
  toSplit?: Split,
): Split | undefined {
  if (from === to) return toSplit;
  const a = fromSplit === undefined ? split(from) : fromSplit;
  // Made here, guided by `a`: the members it took from `a` are known to be equal to them.
  const guided = toSplit === undefined;
  const b = guided ? split(to, a) : toSplit;
  if (opCost > 0 && a !== null && b !== null) {
    const inner: TextOp[] = [];
    diffSplit(a, b, to, path, inner, opCost, guided);
    if (inner.length > 1) {
      let cost = 0;
      for (const o of inner) cost += opCost + (o.value?.length ?? 0);
      if (to.length + opCost < cost) {
        ops.push({ op: 'replace', path, value: to });
        return b;
      }
    }
    for (const o of inner) ops.push(o);
    return b;
  }
  diffSplit(a, b, to, path, ops, opCost, guided);
  return b;
}

function diffSplit(a: Split, b: Split, to: string, path: string, ops: TextOp[], opCost: number, guided: boolean): void {
  if (a?.kind === 'object' && b?.kind === 'object') {
    const am = a.members;
    const bm = b.members;
    // Taken members equal the member of `a` with their name, unless `a` repeats a name.
    const taken = guided && am.index.size === am.names.length ? bm.taken : undefined;
    if (am.index === bm.index) {
      // The same names in the same places: compare the values in place.
      for (let i = 0; i < bm.values.length; i++) {
        if (taken?.[i] === 1) continue;
        const t = bm.values[i]!;
        if (am.values[i] !== t) diffText(am.values[i]!, t, `${path}/${pointerToken(bm.names[i]!)}`, ops, opCost);
      }
      return;
    }
    for (const k of am.index.keys()) {
      if (!bm.index.has(k)) ops.push({ op: 'remove', path: `${path}/${pointerToken(k)}` });
    }
    for (const [k, i] of bm.index) {
      if (taken?.[i] === 1) continue;
      const t = bm.values[i]!;
      const j = am.index.get(k);
      const old = j === undefined ? undefined : am.values[j];
      if (old === t) continue;
      const p = `${path}/${pointerToken(k)}`;
      if (old === undefined) ops.push({ op: 'add', path: p, value: t });
      else diffText(old, t, p, ops, opCost);
    }
    return;
  }
  if (a?.kind === 'array' && b?.kind === 'array') {
    diffElements(a.elements, b.elements, to, path, ops, opCost);
    return;
  }
  ops.push({ op: 'replace', path, value: to });
}

function diffElements(from: string[], to: string[], toText: string, path: string, ops: TextOp[], opCost: number) {
  // Appended to: every old element unchanged, in place.
  if (to.length >= from.length) {
    let same = true;
    for (let i = 0; i < from.length && same; i++) same = from[i] === to[i];
    if (same) {
      for (let i = from.length; i < to.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: to[i]! });
      return;
    }
  }
  if (to.length === from.length) {
    let changed = 0;
    for (let i = 0; i < from.length; i++) if (from[i] !== to[i]) changed++;
    if (changed * 2 <= from.length) {
      for (let i = 0; i < from.length; i++) {
        if (from[i] !== to[i]) diffText(from[i]!, to[i]!, `${path}/${i}`, ops, opCost);
      }
      return;
    }
  }
  // A window that slid: dropped k elements at the front, kept the rest, appended.
  for (let k = 1; k <= Math.min(from.length, 8); k++) {
    const kept = from.length - k;
    if (to.length < kept) break;
    let ok = true;
    for (let i = 0; i < kept && ok; i++) ok = from[i + k] === to[i];
    if (!ok) continue;
    for (let i = 0; i < k; i++) ops.push({ op: 'remove', path: `${path}/0` });
    for (let i = kept; i < to.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: to[i]! });
    return;
  }
  ops.push({ op: 'replace', path, value: toText });
}
