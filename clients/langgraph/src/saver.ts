/**
 * SwarmSaver: a LangGraph checkpoint saver on swarm snapshot histories.
 *
 * Storage (see docs/design/07-langgraph-checkpoints.md), for a key prefix P, thread T and
 * checkpoint namespace N:
 *
 *   P{T}:cp:N         swarm-snp  one version per checkpoint; every version's document is
 *                                {"c": <record>, "i": {<checkpoint id>: <version>, ...}}
 *   P{T}:w:<id>:N     hash       the pending writes of checkpoint <id>, one field per
 *                                [task id, idx]
 *   P{T}:ns           set        the namespaces of T that have a history
 *   P{T}:wk           set        the pending-write hashes of T
 *   Pthreads          set        the threads that have a history (for list() without a thread)
 *
 * A record holds one checkpoint: its id, its parent (`q: 1` when the parent is the
 * checkpoint of the version below, which is what a graph run writes; otherwise `p`, the
 * parent's id), the checkpoint without its id and channel values (`k`), its metadata (`m`)
 * and the channel values it resolves to (`v`). Values go through the saver's serializer;
 * what it serializes as JSON is stored as JSON inside the document (so consecutive
 * checkpoints differ by a few members and the history's reverse deltas stay small), anything
 * else as base64 with its type in `kt`, `mt` or `vt`.
 *
 * put() sends what changed: SWARM.SNAPSHOT EDIT with ops from the head's record to the new
 * one (the members whose text changed; appends to a growing array; inside a changed JSON
 * channel the JSON Patch diff; with an `opCost`, larger replaces where they cost less) plus
 * the index entry, under IFVERSION <head> and a `test` of the head's checkpoint id, so two
 * writers on one thread never lose a checkpoint: the loser gets CONFLICT (or TESTFAILED),
 * reads the head again and retries. The first checkpoint of a history is a
 * SAVE ... IFVERSION 0 KEEP <keep>.
 */
import {
  BaseCheckpointSaver,
  TASKS,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  getCheckpointId,
  maxChannelVersion,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Swarm, rawJSON, type AnyClient } from 'swarm-redis';
import { pointerToken } from './jsonpatch.js';
import { arrayElements, objectMembers } from './jsontext.js';
import { PlainJson } from './plainjson.js';
import { diffText, type Split, type TextOp } from './textdiff.js';

export interface SwarmSaverOptions {
  /** Prefix of every key the saver writes (default `langgraph:`). */
  prefix?: string;
  /**
   * How many checkpoints one thread and namespace keeps (the history's KEEP, set when its
   * first checkpoint is written; default 1000000, the most swarm allows). Past it the oldest
   * checkpoints are evicted: getTuple() answers undefined for them and list() skips them.
   * The server's swarm.snapshot-keep-bytes bounds the bytes of the older versions as well.
   */
  keep?: number;
  /** LangGraph serializer for channel values and metadata (default JsonPlusSerializer). */
  serde?: SerializerProtocol;
  /** How many times put() retries after losing a race with another writer (default 100). */
  maxRetries?: number;
  /**
   * What one EDIT op weighs against bytes sent, when put() chooses between small ops and
   * replacing a larger part of the record (the server applies each op with a pass over the
   * document). The default, 0, always sends the smallest ops.
   */
  opCost?: number;
}

/**
 * One checkpoint as stored in the document (`c`), as the JSON texts of its members: what
 * put() compares and sends, and what reads hand to the serializer. `members` holds every
 * member but `id` and `v` (in record order): `q` or `p`, `k`, `m`, and `kt`, `mt`, `vt` for
 * values the serializer did not write as JSON; `v` the channel values.
 */
interface RecText {
  id: string;
  members: Map<string, string>;
  v: Map<string, string>;
  /**
   * Channel values split one level (by a diff), by channel, for the text in `v`: the next
   * put diffs against them without splitting them again.
   */
  splits: Map<string, Split>;
  /** The checkpoint's channel versions, when known without parsing `k` (a put's own record). */
  versions?: Record<string, unknown>;
}

/**
 * A record as a read gets it: parsed whole when the serializer's fast path reads plain JSON
 * (`obj`), else split into member texts (`rec`).
 */
interface ReadRec {
  id: string;
  obj?: Record<string, unknown>;
  rec?: RecText;
}

/**
 * A history's index as far as this saver knows it, both ways: the entries it wrote, or the
 * whole index it read. `created` is the history's creation time (SWARM.SNAPSHOT INFO) when
 * every entry is known to belong to that history (undefined otherwise): the whole index was
 * read along with it, or the cache was started at a head read or a SAVE that came with it
 * and only this saver's puts on that head followed. A history deleted and written again has
 * another, so an INFO (O(1)) tells whether the entries still hold.
 */
class IndexCache {
  readonly byId = new Map<string, number>();
  readonly byVersion = new Map<number, string>();
  created: number | undefined;
  /** The whole index was read (later entries are looked up one by one). */
  complete = false;

  set(id: string, version: number): void {
    this.byId.set(id, version);
    this.byVersion.set(version, id);
  }
}

/**
 * A history's head as this saver last wrote or read it: version 0 when there is none. A head
 * read by getTuple() keeps the record's text, split into members only when a put needs it.
 */
interface Head {
  version: number;
  id?: string;
  rec?: RecText;
  text?: string;
}

/** One pending write as stored: [task id, idx] -> [channel, type, value, task path]. */
interface WriteRow {
  taskId: string;
  idx: number;
  channel: string;
  t: string;
  payload: string;
  taskPath: string;
}

/** A serialized value: its serializer type and its JSON text in the document. */
interface Enc {
  t: string;
  text: string;
  /** Stored as a base64 string (its type then goes into `kt`, `mt` or `vt`). */
  base64?: boolean;
}

/** A \uD800-\uDFFF escape: JSON.stringify writes one only for an unpaired surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const PUT_WRITES = `redis.call('SADD', KEYS[2], KEYS[1])
for i = 1, #ARGV, 3 do
  if ARGV[i + 1] == '1' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  else
    redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
return 1`;

const CACHE_MAX = 256;

function codeOf(err: unknown): string | undefined {
  return (err as { code?: unknown })?.code as string | undefined;
}

/** The field/value pairs of a hash reply, whatever the protocol and client. */
function pairs(reply: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (reply === null || reply === undefined) return out;
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
  } else if (reply instanceof Map) {
    for (const [k, v] of reply) out.push([String(k), String(v)]);
  } else if (typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply as Record<string, unknown>)) out.push([k, String(v)]);
  }
  return out;
}

/** The record whose JSON text is `text`. */
function parseRecText(text: string): RecText {
  const members = new Map<string, string>();
  const v = new Map<string, string>();
  let id = '';
  for (const [name, value] of objectMembers(text)) {
    if (name === 'id') id = JSON.parse(value) as string;
    else if (name === 'v') for (const [c, t] of objectMembers(value)) v.set(c, t);
    else members.set(name, value);
  }
  return { id, members, v, splits: new Map() };
}

/** The head's record, split from its text the first time it is needed. */
function headRec(head: Head): RecText | undefined {
  if (head.rec === undefined && head.text !== undefined) head.rec = parseRecText(head.text);
  return head.rec;
}

/** The length of recordText(r), without building it. */
function recordLength(r: RecText): number {
  let n = 14 + JSON.stringify(r.id).length;
  for (const [name, text] of r.members) n += 2 + JSON.stringify(name).length + text.length;
  for (const [c, text] of r.v) n += 2 + JSON.stringify(c).length + text.length;
  return n - (r.v.size > 0 ? 1 : 0);
}

function recordText(r: RecText): string {
  let out = `{"id":${JSON.stringify(r.id)}`;
  for (const [name, text] of r.members) out += `,${JSON.stringify(name)}:${text}`;
  out += ',"v":{';
  let first = true;
  for (const [c, text] of r.v) {
    out += `${first ? '' : ','}${JSON.stringify(c)}:${text}`;
    first = false;
  }
  return `${out}}}`;
}

/**
 * When `to` is the JSON array `from` with elements appended (both as serialized by
 * JSON.stringify: no whitespace), the text of the appended elements, comma-separated.
 */
function appendedText(from: string, to: string): string | undefined {
  if (from.length < 2 || to.length <= from.length || from[0] !== '[' || from[from.length - 1] !== ']') return undefined;
  // slice and === compare by memory; String.prototype.startsWith walks characters.
  if (to[to.length - 1] !== ']' || to.slice(0, from.length - 1) !== from.slice(0, -1)) return undefined;
  if (from === '[]') return to.slice(1, -1);
  if (to[from.length - 1] !== ',') return undefined;
  return to.slice(from.length, -1);
}

function opText(op: string, path: string, value?: string): string {
  const v = value === undefined ? '' : `,"value":${value}`;
  return `{"op":"${op}","path":${JSON.stringify(path)}${v}}`;
}

function strings(reply: unknown): string[] {
  if (Array.isArray(reply)) return reply.map(String);
  if (reply instanceof Set) return [...reply].map(String);
  return [];
}

export class SwarmSaver extends BaseCheckpointSaver {
  readonly swarm: Swarm;
  readonly prefix: string;
  readonly keep: number;
  private readonly maxRetries: number;
  private readonly opCost: number;
  /** The head record this saver last wrote or read, per history key. */
  private readonly heads = new Map<string, Head>();
  /**
   * Checkpoint id -> version, per history key: what this saver wrote, or read of the index.
   * An entry can only go stale when the history is deleted and written again; reads check
   * the id of the record they get, and look the id up again when it differs.
   */
  private readonly indexes = new Map<string, IndexCache>();
  /** The serializer's fast path for plain JSON (JSON.stringify and JSON.parse). */
  private readonly plain: PlainJson;

  constructor(client: AnyClient | Swarm, options: SwarmSaverOptions = {}) {
    super(options.serde);
    // A Swarm from another copy of swarm-redis is not `instanceof` this one's: use its transport.
    const transport = (client as { transport?: unknown }).transport;
    if (client instanceof Swarm) this.swarm = client;
    else if (transport !== undefined && typeof (client as { snapshot?: unknown }).snapshot === 'object') {
      this.swarm = new Swarm(transport as AnyClient);
    } else this.swarm = new Swarm(client as AnyClient);
    this.prefix = options.prefix ?? 'langgraph:';
    this.keep = options.keep ?? 1_000_000;
    this.maxRetries = options.maxRetries ?? 100;
    this.opCost = options.opCost ?? 0;
    this.plain = new PlainJson(this.serde);
    if (!Number.isInteger(this.keep) || this.keep < 1 || this.keep > 1_000_000) {
      throw new RangeError('keep must be an integer between 1 and 1000000');
    }
  }

  // ---- Keys ----

  /** The swarm-snp key holding the checkpoints of one thread and namespace. */
  historyKey(threadId: string, ns: string): string {
    return `${this.prefix}{${threadId}}:cp:${ns}`;
  }

  private writesKey(threadId: string, ns: string, checkpointId: string): string {
    return `${this.prefix}{${threadId}}:w:${checkpointId}:${ns}`;
  }

  private nsKey(threadId: string): string {
    return `${this.prefix}{${threadId}}:ns`;
  }

  private writeSetKey(threadId: string): string {
    return `${this.prefix}{${threadId}}:wk`;
  }

  private get threadsKey(): string {
    return `${this.prefix}threads`;
  }

  // ---- Values ----

  /**
   * A value as the serializer writes it: JSON text goes into the document as is (type
   * 'json'); anything else, and JSON that swarm would refuse (an unpaired surrogate escape,
   * which JSON.stringify writes for a string cut in the middle of a character), as a base64
   * string with its type.
   */
  private async encode(value: unknown, base64 = false): Promise<Enc> {
    // indexOf first: it is much faster than the regex, and \u escapes are rare.
    const valid = (text: string) => !text.includes('\\u') || !SURROGATE_ESCAPE.test(text);
    if (!base64) {
      const text = await this.plain.dumps(value);
      if (text !== undefined && valid(text)) return { t: 'json', text };
    }
    const [t, data] = await this.serde.dumpsTyped(value);
    if (t === 'json' && !base64) {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      if (valid(text)) return { t, text };
    }
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return { t, text: JSON.stringify(Buffer.from(bytes).toString('base64')), base64: true };
  }

  /**
   * The value stored as `text` (or already parsed, `parsed`): JSON as is when `t` is
   * undefined, else a base64 string of serializer type `t`.
   */
  private async decode(t: string | undefined, text: string | undefined, parsed?: unknown): Promise<unknown> {
    if (t === undefined) return this.plain.loads(text, parsed);
    const b64 = parsed === undefined ? (JSON.parse(text!) as string) : (parsed as string);
    return this.serde.loadsTyped(t, new Uint8Array(Buffer.from(b64, 'base64')));
  }

  private async encodeWrite(channel: string, value: unknown, taskPath: string): Promise<string> {
    const text = await this.plain.dumps(value);
    if (text !== undefined) return JSON.stringify([channel, 'json', text, taskPath]);
    const [t, data] = await this.serde.dumpsTyped(value);
    const payload = t === 'json' ? new TextDecoder().decode(data) : Buffer.from(data).toString('base64');
    return JSON.stringify([channel, t, payload, taskPath]);
  }

  private async decodeWrite(t: string, payload: string): Promise<unknown> {
    if (t === 'json') return this.plain.loads(payload);
    return this.serde.loadsTyped(t, new Uint8Array(Buffer.from(payload, 'base64')));
  }

  // ---- Reading ----

  private remember(key: string, head: Head): void {
    this.heads.delete(key);
    this.heads.set(key, head);
    if (this.heads.size > CACHE_MAX) this.heads.delete(this.heads.keys().next().value as string);
  }

  /**
   * The head version and its record's text (GET ... PATH /c WITHVERSION; version 0: no
   * history), with the history's creation time (INFO) in the same round trip.
   */
  private async readHead(key: string): Promise<{ head: Head; created: number | undefined }> {
    const [reply, created] = await Promise.all([
      this.swarm.call('SWARM.SNAPSHOT', 'GET', key, 'PATH', '/c', 'WITHVERSION'),
      this.createdAt(key),
    ]);
    if (!Array.isArray(reply)) return { head: { version: 0 }, created };
    const [v, text] = reply as [unknown, unknown];
    const head: Head = { version: Number(v) };
    if (text !== null && text !== undefined) head.text = String(text);
    return { head, created };
  }

  /**
   * What a head read or a SAVE learnt of the history at `key`: its creation time. The
   * index cache is started for it, or dropped when it belonged to another history or its
   * entries cannot be told apart.
   */
  private noteCreated(key: string, created: number | undefined): void {
    if (created === undefined) return;
    const index = this.indexFor(key, false);
    if (index !== undefined && index.created === created) return;
    if (index !== undefined && index.created === undefined && index.byId.size === 0) {
      index.created = created;
      return;
    }
    this.indexes.delete(key);
    this.indexFor(key, true)!.created = created;
  }

  /** The checkpoint id of `version`, or undefined when it is not retained. */
  private async idAt(key: string, version: number): Promise<string | undefined> {
    if (version < 1) return undefined;
    try {
      return await this.swarm.snapshot.get<string>(key, { version, path: '/c/id' });
    } catch (err) {
      if (codeOf(err) === 'NOVERSION') return undefined;
      throw err;
    }
  }

  private indexFor(key: string, create: boolean): IndexCache | undefined {
    let index = this.indexes.get(key);
    if (index !== undefined) {
      this.indexes.delete(key);
      this.indexes.set(key, index);
    } else if (create) {
      index = new IndexCache();
      this.indexes.set(key, index);
      if (this.indexes.size > CACHE_MAX) this.indexes.delete(this.indexes.keys().next().value as string);
    }
    return index;
  }

  /**
   * The version holding checkpoint `id`, or undefined: from the cached index, else (the
   * first time a history is read by id) the whole index in one read, else the one entry.
   */
  private async versionOf(key: string, id: string, cached = true): Promise<number | undefined> {
    const index = this.indexFor(key, false);
    if (cached && index?.byId.has(id)) return index.byId.get(id);
    if (index === undefined || !index.complete) {
      const [text, created] = await Promise.all([this.swarm.snapshot.getText(key, { path: '/i' }), this.createdAt(key)]);
      if (text === null) return undefined;
      this.indexes.delete(key);
      const loaded = this.indexFor(key, true)!;
      for (const [k, v] of objectMembers(text)) loaded.set(k, Number(v));
      loaded.created = created;
      loaded.complete = true;
      return loaded.byId.get(id);
    }
    const v = await this.swarm.snapshot.get<number>(key, { path: `/i/${pointerToken(id)}` });
    if (typeof v !== 'number') return undefined;
    index.set(id, v);
    return v;
  }

  /**
   * The id of the checkpoint at `version`: the cached index's answer while the history is the
   * one that index belongs to (an O(1) INFO, no version rebuilt), else the version's own
   * record.
   */
  private async idAtVersion(key: string, version: number): Promise<string | undefined> {
    if (version < 1) return undefined;
    const index = this.indexes.get(key);
    const candidate = index?.byVersion.get(version);
    if (index !== undefined && candidate !== undefined && index.created !== undefined) {
      if ((await this.createdAt(key)) === index.created) return candidate;
      this.indexes.delete(key);
    }
    return this.idAt(key, version);
  }

  /** When the history at `key` was created (SWARM.SNAPSHOT INFO), or undefined. */
  private async createdAt(key: string): Promise<number | undefined> {
    try {
      return (await this.swarm.snapshot.info(key)).created;
    } catch (err) {
      if (codeOf(err) === 'ERR') return undefined;
      throw err;
    }
  }

  /** The text of the record at `version`, or undefined when that version was evicted. */
  private async recordTextAt(key: string, version: number): Promise<string | undefined> {
    try {
      return (await this.swarm.snapshot.getText(key, { version, path: '/c' })) ?? undefined;
    } catch (err) {
      if (codeOf(err) === 'NOVERSION') return undefined;
      throw err;
    }
  }

  /** A record read from the server, for a tuple: parsed whole on the fast path, else split. */
  private readRec(text: string): ReadRec {
    if (this.plain.parsesRecords) {
      const obj = JSON.parse(text) as Record<string, unknown>;
      return { id: obj['id'] as string, obj };
    }
    const rec = parseRecText(text);
    return { id: rec.id, rec };
  }

  private readWrites(
    threadId: string,
    ns: string,
    checkpointId: string,
  ): Promise<WriteRow[]> {
    const reply = this.swarm.call('HGETALL', this.writesKey(threadId, ns, checkpointId));
    const rows = reply.then((r) =>
      pairs(r)
        .map(([field, value]) => {
          const [taskId, idx] = JSON.parse(field) as [string, number];
          const [channel, t, payload, taskPath] = JSON.parse(value) as [string, string, string, string];
          return { taskId, idx, channel, t, payload, taskPath };
        })
        .sort((a, b) =>
          compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx), writesSortKey(b.taskPath, b.taskId, b.idx)),
        ),
    );
    // A read that returns early never awaits these: that is not an unhandled rejection.
    rows.catch(() => undefined);
    return rows;
  }

  /** The type of a value stored as base64 (`kt`, `mt`, `vt`), from a record as read. */
  private typeOf(r: ReadRec, member: 'kt' | 'mt' | 'vt'): unknown {
    if (r.obj !== undefined) return r.obj[member];
    const t = r.rec!.members.get(member);
    return t === undefined ? undefined : JSON.parse(t);
  }

  /** A member of a record as read (`k` or `m`), through the serializer. */
  private async memberValue(r: ReadRec, name: 'k' | 'm'): Promise<unknown> {
    const t = this.typeOf(r, name === 'k' ? 'kt' : 'mt') as string | undefined;
    if (r.obj !== undefined) {
      const v = r.obj[name];
      return v === undefined ? this.decode(t, '{}') : this.decode(t, undefined, v);
    }
    return this.decode(t, r.rec!.members.get(name) ?? '{}');
  }

  private async metadataOf(r: ReadRec): Promise<CheckpointMetadata> {
    return (await this.memberValue(r, 'm')) as CheckpointMetadata;
  }

  /** Whether the record says its parent is the checkpoint of the version below (`q`). */
  private static hasQ(r: ReadRec): boolean {
    return r.obj !== undefined ? r.obj['q'] !== undefined : r.rec!.members.has('q');
  }

  /** The parent's id: `p`, or for `q` the checkpoint of the version below (`idBelow`). */
  private parentOf(r: ReadRec, idBelow: string | undefined): string | undefined {
    if (SwarmSaver.hasQ(r)) return idBelow;
    if (r.obj !== undefined) return r.obj['p'] as string | undefined;
    const p = r.rec!.members.get('p');
    return p === undefined ? undefined : (JSON.parse(p) as string);
  }

  private async toTuple(
    threadId: string,
    ns: string,
    r: ReadRec,
    parentId: string | undefined,
    writesRead: Promise<WriteRow[]>,
  ): Promise<CheckpointTuple> {
    const vt = (this.typeOf(r, 'vt') ?? {}) as Record<string, string>;
    const typeOfChannel = (c: string) => (Object.prototype.hasOwnProperty.call(vt, c) ? vt[c] : undefined);
    const channels =
      r.obj !== undefined
        ? Object.entries((r.obj['v'] ?? {}) as Record<string, unknown>).map(
            async ([c, v]) => [c, await this.decode(typeOfChannel(c), undefined, v)] as const,
          )
        : [...r.rec!.v].map(async ([c, text]) => [c, await this.decode(typeOfChannel(c), text)] as const);
    const [rest, metadata, values, writes] = await Promise.all([
      this.memberValue(r, 'k') as Promise<Omit<Checkpoint, 'channel_values' | 'id'>>,
      this.metadataOf(r),
      Promise.all(channels),
      writesRead,
    ]);
    const checkpoint = { ...rest, id: r.id, channel_values: Object.fromEntries(values) } as Checkpoint;
    if (checkpoint.v < 4 && parentId !== undefined) await this.migratePendingSends(checkpoint, threadId, ns, parentId);
    const tuple: CheckpointTuple = {
      config: { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: r.id } },
      checkpoint,
      metadata,
      pendingWrites: await Promise.all(
        writes.map(
          async (w) => [w.taskId, w.channel, await this.decodeWrite(w.t, w.payload)] as CheckpointPendingWrite,
        ),
      ),
    };
    if (parentId !== undefined) {
      tuple.parentConfig = { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: parentId } };
    }
    return tuple;
  }

  /** Checkpoints older than format 4 kept pending sends as writes to TASKS on their parent. */
  private async migratePendingSends(checkpoint: Checkpoint, threadId: string, ns: string, parentId: string) {
    const writes = await this.readWrites(threadId, ns, parentId);
    const sends = await Promise.all(
      writes.filter((w) => w.channel === TASKS).map((w) => this.decodeWrite(w.t, w.payload)),
    );
    checkpoint.channel_values ??= {};
    checkpoint.channel_values[TASKS] = sends;
    checkpoint.channel_versions ??= {};
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] =
      versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }

  /**
   * One round trip when the caches know the history: by id, the record, the INFO that
   * vouches for the cached parent id and the pending writes; the latest, the head with its
   * INFO and the writes of the head this saver last saw.
   */
  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.['thread_id'];
    if (threadId === undefined || threadId === null) return undefined;
    const thread = String(threadId);
    const ns = String(config.configurable?.['checkpoint_ns'] ?? '');
    const key = this.historyKey(thread, ns);
    const id = getCheckpointId(config);
    if (id) {
      const writes = this.readWrites(thread, ns, id);
      let r: ReadRec | undefined;
      let prev: string | undefined;
      for (const cached of [true, false]) {
        const version = await this.versionOf(key, id, cached);
        if (version === undefined) return undefined;
        // The parent's id is read along (it is needed whenever the record says `q`).
        const [text, below] = await Promise.all([this.recordTextAt(key, version), this.idAtVersion(key, version - 1)]);
        r = text === undefined ? undefined : this.readRec(text);
        prev = below;
        if (r?.id === id) break;
      }
      if (r?.id !== id) return undefined;
      return this.toTuple(thread, ns, r, this.parentOf(r, prev), writes);
    }
    const cached = this.heads.get(key);
    const guess = cached?.id;
    const guessed = guess === undefined ? undefined : this.readWrites(thread, ns, guess);
    const { head, created } = await this.readHead(key);
    if (head.version === 0 || head.text === undefined) return undefined;
    const r = this.readRec(head.text);
    // A head this saver already holds (split, for its next put) stays as it is.
    if (cached?.version !== head.version || cached.id !== r.id) this.remember(key, { ...head, id: r.id });
    this.noteCreated(key, created);
    // What this read learnt goes into the index (which now belongs to this history): the
    // next head is usually one version up, and its parent is this one.
    const index = created === undefined ? undefined : this.indexes.get(key);
    index?.set(r.id, head.version);
    let parentId = this.parentOf(r, undefined);
    if (SwarmSaver.hasQ(r)) {
      parentId = index?.byVersion.get(head.version - 1);
      if (parentId === undefined) {
        parentId = await this.idAt(key, head.version - 1);
        if (parentId !== undefined) index?.set(parentId, head.version - 1);
      }
    }
    const writes = r.id === guess ? guessed! : this.readWrites(thread, ns, r.id);
    return this.toTuple(thread, ns, r, parentId, writes);
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options;
    let limit = options.limit;
    const cfgThread = config.configurable?.['thread_id'];
    const cfgNs = config.configurable?.['checkpoint_ns'];
    const cfgId = config.configurable?.['checkpoint_id'] as string | undefined;
    const beforeId = before?.configurable?.['checkpoint_id'] as string | undefined;
    const threads =
      cfgThread !== undefined && cfgThread !== null
        ? [String(cfgThread)]
        : strings(await this.swarm.call('SMEMBERS', this.threadsKey)).sort();
    for (const threadId of threads) {
      const namespaces =
        cfgNs !== undefined && cfgNs !== null
          ? [String(cfgNs)]
          : strings(await this.swarm.call('SMEMBERS', this.nsKey(threadId))).sort();
      for (const ns of namespaces) {
        const key = this.historyKey(threadId, ns);
        const index = (await this.swarm.snapshot.get<Record<string, number>>(key, { path: '/i' })) ?? {};
        const cache = this.indexFor(key, true)!;
        for (const [id, v] of Object.entries(index)) cache.set(id, v);
        const idOf = new Map(Object.entries(index).map(([id, v]) => [v, id]));
        const ids = Object.keys(index)
          .filter((id) => (!cfgId || id === cfgId) && (!beforeId || id < beforeId))
          .sort()
          .reverse();
        const batch = 16;
        for (let i = 0; i < ids.length; i += batch) {
          const chunk = ids.slice(i, i + batch);
          // The records and their pending writes, 16 checkpoints a round trip.
          const writes = chunk.map((id) => this.readWrites(threadId, ns, id));
          const texts = await Promise.all(chunk.map((id) => this.recordTextAt(key, index[id]!)));
          for (let j = 0; j < chunk.length; j++) {
            const text = texts[j];
            const rec = text === undefined ? undefined : this.readRec(text);
            if (rec === undefined || rec.id !== chunk[j]) continue;
            if (filter && Object.keys(filter).length > 0) {
              const metadata = (await this.metadataOf(rec)) as Record<string, unknown>;
              if (!Object.entries(filter).every(([k, v]) => metadata?.[k] === v)) continue;
            }
            if (limit !== undefined) {
              if (limit <= 0) return;
              limit -= 1;
            }
            let parentId = this.parentOf(rec, undefined);
            if (SwarmSaver.hasQ(rec)) {
              const v = index[rec.id]! - 1;
              parentId = idOf.get(v);
              if (parentId === undefined || index[parentId] !== v) parentId = await this.idAt(key, v);
            }
            yield await this.toTuple(threadId, ns, rec, parentId, writes[j]!);
          }
        }
      }
    }
  }

  // ---- Writing ----

  /** The channel versions of a record (its `k`), for carrying values over. */
  private async versionsOf(rec: RecText): Promise<Record<string, unknown>> {
    if (rec.versions !== undefined) return rec.versions;
    const k = rec.members.get('k');
    const kt = rec.members.get('kt');
    if (k === undefined) return {};
    const rest = (kt === undefined ? JSON.parse(k) : await this.decode(JSON.parse(kt) as string, k)) as {
      channel_versions?: Record<string, unknown>;
    };
    return rest?.channel_versions ?? {};
  }

  /**
   * The record of `checkpoint`: the values of the channels in newVersions from `fresh`, the
   * others carried over from `base` (the parent's record) where their version is the same.
   */
  private async record(
    checkpoint: Checkpoint,
    parent: { id?: string; previous: boolean },
    k: Enc,
    m: Enc,
    fresh: Map<string, Enc>,
    base: RecText | undefined,
  ): Promise<RecText> {
    const baseVersions = base === undefined ? {} : await this.versionsOf(base);
    const baseTypes = base?.members.has('vt') ? (JSON.parse(base.members.get('vt')!) as Record<string, string>) : {};
    const v = new Map<string, string>();
    const vt: Array<[string, string]> = [];
    const splits = new Map<string, Split>();
    for (const [c, version] of Object.entries(checkpoint.channel_versions ?? {})) {
      const e = fresh.get(c);
      if (e !== undefined) {
        v.set(c, e.text);
        if (e.base64) vt.push([c, e.t]);
      } else if (base !== undefined && base.v.has(c) && baseVersions[c] === version) {
        v.set(c, base.v.get(c)!);
        const split = base.splits.get(c);
        if (split !== undefined) splits.set(c, split);
        const t = Object.prototype.hasOwnProperty.call(baseTypes, c) ? baseTypes[c] : undefined;
        if (t !== undefined) vt.push([c, t]);
      }
    }
    const members = new Map<string, string>();
    if (parent.previous) members.set('q', '1');
    else if (parent.id !== undefined) members.set('p', JSON.stringify(parent.id));
    members.set('k', k.text);
    if (k.base64) members.set('kt', JSON.stringify(k.t));
    members.set('m', m.text);
    if (m.base64) members.set('mt', JSON.stringify(m.t));
    if (vt.length > 0) members.set('vt', JSON.stringify(Object.fromEntries(vt)));
    // The versions are kept for the next put (numbers or strings: a shallow copy is a copy).
    return { id: checkpoint.id, members, v, splits, versions: { ...checkpoint.channel_versions } };
  }

  /**
   * The ops that turn record `from` into `to` inside the document: the members whose text
   * changed; in a large JSON channel value the JSON Patch diff when it costs less than the
   * value; or `/c` whole when that costs less than all of them. Everything is found on the
   * texts (textdiff.ts); the split of each diffed channel is kept on `to` for the next put.
   */
  private editOps(from: RecText, to: RecText): string[] {
    const OP_COST = this.opCost;
    const ops: string[] = [];
    let cost = 0;
    const set = (path: string, text: string) => {
      ops.push(opText('add', path, text));
      cost += OP_COST + text.length;
    };
    if (from.id !== to.id) set('/c/id', JSON.stringify(to.id));
    for (const [name, text] of to.members) if (from.members.get(name) !== text) set(`/c/${pointerToken(name)}`, text);
    for (const name of from.members.keys()) {
      if (!to.members.has(name)) {
        ops.push(opText('remove', `/c/${pointerToken(name)}`));
        cost += OP_COST;
      }
    }
    const fromTypes = from.members.get('vt');
    const toTypes = to.members.get('vt');
    for (const [c, text] of to.v) {
      const old = from.v.get(c);
      if (old === text) {
        const split = from.splits.get(c);
        if (split !== undefined) to.splits.set(c, split);
        continue;
      }
      const path = `/c/v/${pointerToken(c)}`;
      const plainJson = fromTypes === undefined && toTypes === undefined;
      const appended = plainJson && old !== undefined ? appendedText(old, text) : undefined;
      if (appended !== undefined) {
        // An array that only grew (a messages channel): append the new elements, found on
        // the text without parsing either value.
        for (const value of arrayElements(`[${appended}]`)) {
          ops.push(opText('add', `${path}/-`, value));
          cost += OP_COST + value.length;
        }
        continue;
      }
      if (old !== undefined && plainJson && text.length > OP_COST) {
        const sub: TextOp[] = [];
        const split = diffText(old, text, path, sub, OP_COST, from.splits.get(c));
        if (split !== undefined) to.splits.set(c, split);
        let subCost = 0;
        const subOps = sub.map((o) => {
          subCost += OP_COST + (o.value?.length ?? 0);
          return opText(o.op, o.path, o.value);
        });
        if (subCost < OP_COST + text.length) {
          for (const o of subOps) ops.push(o);
          cost += subCost;
          continue;
        }
      }
      set(path, text);
    }
    for (const c of from.v.keys()) {
      if (!to.v.has(c)) {
        ops.push(opText('remove', `/c/v/${pointerToken(c)}`));
        cost += OP_COST;
      }
    }
    if (cost > OP_COST + recordLength(to)) return [opText('replace', '/c', recordText(to))];
    return ops;
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const threadRaw = config.configurable?.['thread_id'];
    if (threadRaw === undefined || threadRaw === null) {
      throw new Error('Failed to put checkpoint: the config has no "thread_id" in its "configurable" property');
    }
    const threadId = String(threadRaw);
    const ns = String(config.configurable?.['checkpoint_ns'] ?? '');
    const parentId = (config.configurable?.['checkpoint_id'] as string | undefined) || undefined;
    const key = this.historyKey(threadId, ns);

    // The id is the record's own `id`; `k` keeps the rest but the channel values.
    const { channel_values: values, id: _id, ...rest } = checkpoint;
    let [k, m] = await Promise.all([this.encode(rest), this.encode(metadata)]);
    const fresh = new Map<string, Enc>();
    for (const c of Object.keys(newVersions)) {
      if (values && Object.prototype.hasOwnProperty.call(values, c)) fresh.set(c, await this.encode(values[c]));
    }
    let asBase64 = false;
    const indexOp = (version: number) => opText('add', `/i/${pointerToken(checkpoint.id)}`, String(version));

    for (let attempt = 0; ; attempt++) {
      let head = this.heads.get(key);
      let learnt = false;
      if (head === undefined) {
        const read = await this.readHead(key);
        head = read.head;
        this.noteCreated(key, read.created);
        learnt = read.created !== undefined;
      }
      const headRecord = headRec(head);
      if (learnt && headRecord !== undefined) this.indexes.get(key)?.set(headRecord.id, head.version);
      let base = headRecord;
      if (parentId !== undefined && headRecord?.id !== parentId) {
        const pv = await this.versionOf(key, parentId);
        const text = pv === undefined ? undefined : await this.recordTextAt(key, pv);
        if (text !== undefined) base = parseRecText(text);
      }
      const previous = parentId !== undefined && headRecord !== undefined && headRecord.id === parentId;
      const rec = await this.record(checkpoint, { id: parentId, previous }, k, m, fresh, base);
      try {
        let version: number;
        if (head.version === 0 || headRecord === undefined) {
          if (previous) rec.members.delete('q');
          if (parentId !== undefined) rec.members.set('p', JSON.stringify(parentId));
          const doc = `{"c":${recordText(rec)},"i":{${JSON.stringify(checkpoint.id)}:${head.version + 1}}}`;
          // The sets, the SAVE and the INFO that dates the new history: one round trip.
          const [, , saved, created] = await Promise.all([
            this.swarm.call('SADD', this.threadsKey, threadId),
            this.swarm.call('SADD', this.nsKey(threadId), ns),
            this.swarm.snapshot.save(key, rawJSON(doc), { ifVersion: head.version, keep: this.keep }),
            this.createdAt(key),
          ]);
          version = saved;
          this.noteCreated(key, created);
        } else {
          const ops = [opText('test', '/c/id', JSON.stringify(headRecord.id)), ...this.editOps(headRecord, rec)];
          ops.push(indexOp(head.version + 1));
          version = (await this.swarm.snapshot.edit(key, rawJSON(`[${ops.join(',')}]`), { ifVersion: head.version })).version;
        }
        this.remember(key, { version, id: checkpoint.id, rec });
        this.indexFor(key, true)!.set(checkpoint.id, version);
        break;
      } catch (err) {
        const code = codeOf(err);
        if (code === 'PAYLOAD' && !asBase64) {
          // JSON the server refuses (nested deeper than it allows, say): store this
          // checkpoint's new values as base64 instead, once.
          asBase64 = true;
          [k, m] = await Promise.all([this.encode(rest, true), this.encode(metadata, true)]);
          for (const c of fresh.keys()) fresh.set(c, await this.encode(values[c], true));
          continue;
        }
        if (code !== 'CONFLICT' && code !== 'TESTFAILED' && code !== 'NOPATH') throw err;
        this.heads.delete(key);
        if (attempt >= this.maxRetries) throw err;
      }
    }
    return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const threadRaw = config.configurable?.['thread_id'];
    const checkpointId = config.configurable?.['checkpoint_id'] as string | undefined;
    if (threadRaw === undefined || threadRaw === null) {
      throw new Error('Failed to put writes: the config has no "thread_id" in its "configurable" property');
    }
    if (!checkpointId) {
      throw new Error('Failed to put writes: the config has no "checkpoint_id" in its "configurable" property');
    }
    const threadId = String(threadRaw);
    const ns = String(config.configurable?.['checkpoint_ns'] ?? '');
    const args: string[] = [];
    for (let i = 0; i < writes.length; i++) {
      const [channel, value] = writes[i]!;
      const idx = WRITES_IDX_MAP[channel] ?? i;
      args.push(
        JSON.stringify([taskId, idx]),
        idx < 0 ? '1' : '0',
        await this.encodeWrite(channel, value, taskPath ?? ''),
      );
    }
    if (args.length === 0) return;
    await this.swarm.call(
      'EVAL',
      PUT_WRITES,
      2,
      this.writesKey(threadId, ns, checkpointId),
      this.writeSetKey(threadId),
      ...args,
    );
  }

  async deleteThread(threadId: string): Promise<void> {
    const t = String(threadId);
    const [namespaces, writeKeys] = await Promise.all([
      this.swarm.call('SMEMBERS', this.nsKey(t)),
      this.swarm.call('SMEMBERS', this.writeSetKey(t)),
    ]);
    const histories = strings(namespaces).map((ns) => this.historyKey(t, ns));
    const keys = [...histories, ...strings(writeKeys), this.nsKey(t), this.writeSetKey(t)];
    for (let i = 0; i < keys.length; i += 512) await this.swarm.call('DEL', ...keys.slice(i, i + 512));
    await this.swarm.call('SREM', this.threadsKey, t);
    for (const h of histories) {
      this.heads.delete(h);
      this.indexes.delete(h);
    }
  }
}
