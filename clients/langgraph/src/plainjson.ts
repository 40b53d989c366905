/**
 * LangGraph's JsonPlusSerializer without its cost for plain JSON.
 *
 * The stock serializer writes a value with a replacer called on every node (after a pass
 * that looks for cycles) and reads one back with an asynchronous reviver that awaits every
 * member and array element. For a value that is plain JSON (plain objects, arrays, strings,
 * numbers, booleans, null) both give exactly what JSON.stringify and JSON.parse give, so
 * the saver calls those directly and hands anything else to the serializer:
 *
 * - writing, a value qualifies when every object in it is a plain object (prototype
 *   Object.prototype or null) or an array, with no `undefined`, function, symbol or bigint
 *   inside, no `toJSON`, and no `lg_name` member (the serializer rewrites a Send);
 * - reading, a parsed value qualifies when no object in it has an `lc` member (what the
 *   reviver turns back into a message, a Set, a Map, undefined...) or a `__proto__` member.
 *
 * This applies only to an unmodified JsonPlusSerializer (that class itself, no instance
 * members). The first value written and the first read each way also go through the
 * serializer, and the fast path turns itself off for good if the results differ.
 */
import { JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';

/** Deeper than this is not taken as plain (it also stops a cycle). */
const MAX_DEPTH = 200;

function plainValue(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > MAX_DEPTH) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Array.prototype) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) if (!plainValue(a[i], depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const o = v as Record<string, unknown>;
  if (o['toJSON'] !== undefined || o['lg_name'] !== undefined) return false;
  for (const k in o) if (!plainValue(o[k], depth + 1)) return false;
  return true;
}

/** Whether the reviver could change the parsed JSON value `v`. */
function revivable(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (revivable(v[i])) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (k === 'lc' || k === '__proto__' || revivable(o[k])) return true;
  return false;
}

const decoder = new TextDecoder();

export class PlainJson {
  private dumpsOn: boolean;
  private loadsOn: boolean;
  private dumpsChecked = false;
  private loadsChecked = false;

  constructor(private readonly serde: SerializerProtocol) {
    const stock =
      Object.getPrototypeOf(serde) === JsonPlusSerializer.prototype && Object.getOwnPropertyNames(serde).length === 0;
    this.dumpsOn = stock;
    this.loadsOn = stock;
  }

  /** The JSON text the serializer writes for `v` (type 'json'), or undefined: ask the serializer. */
  async dumps(v: unknown): Promise<string | undefined> {
    if (!this.dumpsOn || !plainValue(v, 0)) return undefined;
    const text = JSON.stringify(v);
    if (!this.dumpsChecked) {
      this.dumpsChecked = true;
      const [t, data] = await this.serde.dumpsTyped(v);
      if (t !== 'json' || (typeof data === 'string' ? data : decoder.decode(data)) !== text) {
        this.dumpsOn = false;
        return undefined;
      }
    }
    return text;
  }

  /**
   * What the serializer reads from `text` (type 'json'), given `parsed`, JSON.parse(text)
   * (parsed here when not given).
   */
  async loads(text: string | undefined, parsed?: unknown): Promise<unknown> {
    if (this.loadsOn) {
      const value = parsed === undefined ? JSON.parse(text!) : parsed;
      if (!revivable(value)) {
        if (this.loadsChecked) return value;
        this.loadsChecked = true;
        const theirs = await this.serde.loadsTyped('json', text ?? JSON.stringify(value));
        if (JSON.stringify(theirs) === JSON.stringify(value)) return value;
        this.loadsOn = false;
        return theirs;
      }
      return this.serde.loadsTyped('json', text ?? JSON.stringify(value));
    }
    return this.serde.loadsTyped('json', text ?? JSON.stringify(parsed));
  }

  /** Whether loads() is worth a JSON.parse of a whole record up front. */
  get parsesRecords(): boolean {
    return this.loadsOn;
  }
}
