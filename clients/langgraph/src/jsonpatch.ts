/**
 * The RFC 6902 JSON Patch that turns one JSON value into another, computed client-side so a
 * checkpoint is written as the few operations that changed it (SWARM.SNAPSHOT EDIT) rather
 * than as a whole document.
 *
 * Objects are compared member by member, recursively. An array that grew by appending (the
 * usual shape of a messages channel) becomes `add .../-` operations; an array of the same
 * length is compared element by element; an array that lost elements at its front and grew
 * at its end (a sliding window) becomes `remove .../0` then appends; anything else is
 * replaced whole. Values are JSON (what JSON.parse returns): no undefined, no cycles.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Op =
  | { op: 'add' | 'replace' | 'test'; path: string; value: Json }
  | { op: 'remove'; path: string };

/** Escapes one member name as a JSON Pointer reference token (RFC 6901). */
export function pointerToken(name: string): string {
  if (!name.includes('~') && !name.includes('/')) return name;
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of two JSON values (member order does not matter). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !jsonEqual(a[k], b[k])) return false;
  }
  return true;
}

/**
 * Appends to ops the operations that turn `from` into `to` at `path`.
 *
 * `opCost` (default 0: never) weighs one op against bytes of values sent: where the ops of
 * a subtree cost more than replacing it (`opCost` plus its JSON length) the subtree is
 * replaced whole, so a record with several changed members becomes one op. swarm applies
 * each op with a pass over the document, which makes few larger ops cheaper than many small
 * ones.
 */
export function diff(from: Json, to: Json, path = '', ops: Op[] = [], opCost = 0): Op[] {
  if (opCost > 0 && typeof to === 'object' && to !== null && typeof from === 'object' && from !== null) {
    const inner = diffInner(from, to, path, [], opCost);
    if (inner.length > 1) {
      let cost = 0;
      for (const o of inner) cost += opCost + ('value' in o ? JSON.stringify(o.value).length : 0);
      const whole = JSON.stringify(to).length + opCost;
      if (whole < cost) {
        ops.push({ op: 'replace', path, value: to });
        return ops;
      }
    }
    for (const o of inner) ops.push(o);
    return ops;
  }
  return diffInner(from, to, path, ops, opCost);
}

function diffInner(from: Json, to: Json, path: string, ops: Op[], opCost: number): Op[] {
  const diff = (a: Json, b: Json, p: string, o: Op[]) => diffNode(a, b, p, o, opCost);
  if (isObject(from) && isObject(to)) {
    for (const k of Object.keys(from)) {
      if (!Object.prototype.hasOwnProperty.call(to, k)) ops.push({ op: 'remove', path: `${path}/${pointerToken(k)}` });
    }
    for (const k of Object.keys(to)) {
      const p = `${path}/${pointerToken(k)}`;
      if (!Object.prototype.hasOwnProperty.call(from, k)) ops.push({ op: 'add', path: p, value: to[k]! });
      else diff(from[k]!, to[k]!, p, ops);
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    diffArray(from, to, path, ops, opCost);
    return ops;
  }
  if (!jsonEqual(from, to)) ops.push({ op: 'replace', path, value: to });
  return ops;
}

function diffNode(from: Json, to: Json, path: string, ops: Op[], opCost: number): Op[] {
  return diff(from, to, path, ops, opCost);
}

function diffArray(from: Json[], to: Json[], path: string, ops: Op[], opCost: number): void {
  const diff = (a: Json, b: Json, p: string, o: Op[]) => diffNode(a, b, p, o, opCost);
  // Appended to: every old element unchanged, in place.
  if (to.length >= from.length && from.every((v, i) => jsonEqual(v, to[i]))) {
    for (let i = from.length; i < to.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: to[i]! });
    return;
  }
  if (to.length === from.length) {
    let changed = 0;
    for (let i = 0; i < from.length; i++) if (!jsonEqual(from[i], to[i])) changed++;
    if (changed * 2 <= from.length) {
      for (let i = 0; i < from.length; i++) diff(from[i]!, to[i]!, `${path}/${i}`, ops);
      return;
    }
  }
  // A window that slid: dropped k elements at the front, kept the rest, appended.
  for (let k = 1; k <= Math.min(from.length, 8); k++) {
    const kept = from.length - k;
    if (to.length < kept) break;
    let ok = true;
    for (let i = 0; i < kept && ok; i++) ok = jsonEqual(from[i + k], to[i]);
    if (!ok) continue;
    for (let i = 0; i < k; i++) ops.push({ op: 'remove', path: `${path}/0` });
    for (let i = kept; i < to.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: to[i]! });
    return;
  }
  ops.push({ op: 'replace', path, value: to });
}

/** Applies ops produced by diff() to a deep copy of `doc` (used by the tests). */
export function applyOps(doc: Json, ops: readonly Op[]): Json {
  let root: Json = structuredClone(doc);
  for (const o of ops) {
    if (o.path === '') {
      if (o.op === 'remove') throw new Error('cannot remove the root');
      if (o.op !== 'test') root = structuredClone(o.value);
      continue;
    }
    const tokens = o.path
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop()!;
    let parent: Json = root;
    for (const t of tokens) parent = Array.isArray(parent) ? parent[Number(t)]! : (parent as { [k: string]: Json })[t]!;
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (o.op === 'add') parent.splice(i, 0, structuredClone(o.value));
      else if (o.op === 'remove') parent.splice(i, 1);
      else if (o.op === 'replace') parent[i] = structuredClone(o.value);
    } else {
      const obj = parent as { [k: string]: Json };
      if (o.op === 'remove') delete obj[last];
      else if (o.op !== 'test') obj[last] = structuredClone(o.value);
    }
  }
  return root;
}
