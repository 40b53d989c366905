/**
 * Reply normalisation: the same plain objects whatever the client and protocol.
 *
 * RESP2 (node-redis 4, ioredis, node-redis 5 by default) sends maps as flat field/value
 * arrays; RESP3 (node-redis 5 with `RESP: 3`) as maps, which node-redis decodes to
 * null-prototype objects (or Maps, or flat arrays, with a type mapping). Strings may be
 * Buffers with some options. Everything here accepts all of these.
 */

export type Num = number | bigint | string;

export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (v === null || v === undefined) return '';
  return String(v);
}

export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : str(v);
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return Number(str(v));
}

export function arr(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) return [];
  if (v instanceof Map) return [...v.entries()].flat();
  if (typeof v === 'object') return Object.entries(v as object).flat();
  return [v];
}

/** A map reply (RESP3 map, Map, object, or RESP2 flat array) as a record. */
export function record(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v instanceof Map) {
    for (const [k, x] of v) out[str(k)] = x;
  } else if (Array.isArray(v)) {
    for (let i = 0; i + 1 < v.length; i += 2) out[str(v[i])] = v[i + 1];
  } else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const k of Object.keys(v)) out[k] = (v as Record<string, unknown>)[k];
  }
  return out;
}

/** A route of SWARM.ROUTE LIST. */
export interface Route {
  id: number;
  pattern: string;
  kind: 'subject' | 'regex';
  target: string;
  priority: [number, number];
  matched: number;
  delivered: number;
  missed: number;
  failed: number;
  shed: number;
  breaker: 'closed' | 'open' | 'half-open';
}

/** An admission rule of SWARM.ROUTE RULES. */
export interface Rule {
  id: number;
  action: 'allow' | 'deny';
  regex: string;
  hits: number;
}

/** SWARM.ROUTE STATS. */
export interface Stats {
  published: number;
  delivered: number;
  rejected: number;
  unrouted: number;
  deadlettered: number;
  shed: number;
  routes: number;
  rules: number;
  lastId: string;
  default: string | null;
  /** Publishes answered from the MSGID window (0 on servers without it). */
  duplicates: number;
  /** MSGIDs the window remembers now (0 on servers without it). */
  msgids: number;
}

/** One table of SWARM.STATS: its SWARM.ROUTE STATS plus the routes whose breaker is not closed. */
export interface TableStats extends Stats {
  breakersOpen: number;
}

/** One page of SWARM.STATS: pass `cursor` to the next call; `'0'` when the iteration is over. */
export interface StatsPage {
  cursor: string;
  tables: Array<{ key: string; stats: TableStats }>;
}

export type LossOutcome = 'shed' | 'missed' | 'failed';

/**
 * SWARM.PUBLISH. `lost` is empty when the server sends the older 3-element reply;
 * `duplicate` is false when it sends no 5th element.
 */
export interface PublishResult {
  /** The message id (for a remembered duplicate: the original message's id). */
  id: string;
  delivered: string[];
  receivers: number;
  lost: Array<{ target: string; outcome: LossOutcome }>;
  /** True when the server recognised the message as a duplicate and delivered nothing. */
  duplicate: boolean;
  /** With the `replicas` option (Swarm wrapper): how many replicas acknowledged the write. */
  acked?: number;
}

/** A snapshot write with the `replicas` option: the new version and the replicas that acknowledged it. */
export interface AckedVersion {
  version: number;
  acked: number;
}

/** One retained version of SWARM.SNAPSHOT LIST. */
export interface VersionEntry {
  version: number;
  ts: number;
  bytes: number;
  checksum: string;
}

/** SWARM.SNAPSHOT INFO. */
export interface SnapshotInfo {
  head: number;
  oldest: number;
  retained: number;
  keep: number;
  bytes: number;
  created: number;
  updated: number;
}

/** SWARM.SNAPSHOT EDIT: the new version and the values the `incr` ops produced, in op order. */
export interface EditResult {
  version: number;
  incr: number[];
  /** With the `replicas` option (Swarm wrapper): how many replicas acknowledged the write. */
  acked?: number;
}

export function decodeRoute(v: unknown): Route {
  const r = record(v);
  const pr = arr(r['priority']);
  return {
    id: num(r['id']),
    pattern: str(r['pattern']),
    kind: str(r['kind']) as Route['kind'],
    target: str(r['target']),
    priority: [num(pr[0]), num(pr[1])],
    matched: num(r['matched']),
    delivered: num(r['delivered']),
    missed: num(r['missed']),
    failed: num(r['failed']),
    shed: num(r['shed']),
    breaker: str(r['breaker']) as Route['breaker'],
  };
}

export function decodeRule(v: unknown): Rule {
  const r = record(v);
  return {
    id: num(r['id']),
    action: str(r['action']) as Rule['action'],
    regex: str(r['regex']),
    hits: num(r['hits']),
  };
}

export function decodeStats(v: unknown): Stats {
  const r = record(v);
  return {
    published: num(r['published']),
    delivered: num(r['delivered']),
    rejected: num(r['rejected']),
    unrouted: num(r['unrouted']),
    deadlettered: num(r['deadlettered']),
    shed: num(r['shed']),
    routes: num(r['routes']),
    rules: num(r['rules']),
    lastId: str(r['last-id']),
    default: strOrNull(r['default']),
    duplicates: num(r['duplicates'] ?? 0),
    msgids: num(r['msgids'] ?? 0),
  };
}

export function decodeStatsPage(v: unknown): StatsPage {
  const [cursor, page] = arr(v);
  const tables: StatsPage['tables'] = [];
  const items = arr(page);
  // RESP2/RESP3 arrays of [key, stats] pairs.
  for (const item of items) {
    const [key, stats] = arr(item);
    tables.push({ key: str(key), stats: { ...decodeStats(stats), breakersOpen: num(record(stats)['breakers-open'] ?? 0) } });
  }
  return { cursor: str(cursor), tables };
}

/**
 * Accepts `[id, delivered, receivers]`, `[id, delivered, receivers, lost]` and
 * `[id, delivered, receivers, lost, duplicate]`.
 */
export function decodePublish(v: unknown): PublishResult {
  const a = arr(v);
  const lost: PublishResult['lost'] = [];
  const rawLost = a[3];
  if (rawLost !== undefined && rawLost !== null) {
    const items = arr(rawLost);
    if (items.every((x) => Array.isArray(x))) {
      for (const pair of items as unknown[][]) lost.push({ target: str(pair[0]), outcome: str(pair[1]) as LossOutcome });
    } else {
      for (let i = 0; i + 1 < items.length; i += 2) {
        lost.push({ target: str(items[i]), outcome: str(items[i + 1]) as LossOutcome });
      }
    }
  }
  const dup = a[4];
  return {
    id: str(a[0]),
    delivered: arr(a[1]).map(str),
    receivers: num(a[2] ?? 0),
    lost,
    duplicate: dup === true || (dup !== undefined && dup !== null && dup !== false && num(dup) === 1),
  };
}

export function decodeVersionEntry(v: unknown): VersionEntry {
  const r = record(v);
  return { version: num(r['version']), ts: num(r['ts']), bytes: num(r['bytes']), checksum: str(r['checksum']) };
}

export function decodeInfo(v: unknown): SnapshotInfo {
  const r = record(v);
  return {
    head: num(r['head']),
    oldest: num(r['oldest']),
    retained: num(r['retained']),
    keep: num(r['keep']),
    bytes: num(r['bytes']),
    created: num(r['created']),
    updated: num(r['updated']),
  };
}

/**
 * EDIT's reply is documented as "the new version and the values incr produced". Accepted
 * shapes: an integer; `[version, [v1, v2, ...]]`; `[version, v1, v2, ...]`.
 */
export function decodeEdit(v: unknown): EditResult {
  if (!Array.isArray(v)) return { version: num(v), incr: [] };
  const [version, ...rest] = v;
  const values = rest.length === 1 && Array.isArray(rest[0]) ? (rest[0] as unknown[]) : rest;
  return { version: num(version), incr: values.map(num) };
}
