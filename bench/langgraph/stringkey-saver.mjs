// The baseline for bench.mjs: the same BaseCheckpointSaver interface, storing every
// checkpoint whole (serialized by LangGraph's serializer, as MemorySaver keeps it) as its own
// string key, with a sorted set of checkpoint ids per thread and namespace for "latest" and
// list(). This is how a saver without JSON or history support stores checkpoints.
import { BaseCheckpointSaver, WRITES_IDX_MAP, getCheckpointId } from '@langchain/langgraph-checkpoint';

const dec = new TextDecoder();

export class StringKeySaver extends BaseCheckpointSaver {
  constructor(client, prefix = 'sk:') {
    super();
    this.client = client;
    this.prefix = prefix;
  }

  key(t, ns, id) {
    return `${this.prefix}{${t}}:${ns}:${id}`;
  }

  idx(t, ns) {
    return `${this.prefix}{${t}}:${ns}:idx`;
  }

  async getTuple(config) {
    const t = config.configurable?.thread_id;
    if (t === undefined) return undefined;
    const ns = config.configurable?.checkpoint_ns ?? '';
    let id = getCheckpointId(config);
    if (!id) {
      const latest = await this.client.sendCommand(['ZRANGE', this.idx(t, ns), '+', '-', 'BYLEX', 'REV', 'LIMIT', '0', '1']);
      id = latest[0];
      if (!id) return undefined;
    }
    const [text, writes] = await Promise.all([
      this.client.sendCommand(['GET', this.key(t, ns, id)]),
      this.client.sendCommand(['HGETALL', `${this.key(t, ns, id)}:w`]),
    ]);
    if (text === null) return undefined;
    const [checkpoint, metadata, parent] = JSON.parse(text);
    const pendingWrites = [];
    const flat = Array.isArray(writes) ? writes : Object.entries(writes ?? {}).flat();
    for (let i = 0; i < flat.length; i += 2) {
      const [task, channel, value] = JSON.parse(flat[i + 1]);
      pendingWrites.push([task, channel, await this.serde.loadsTyped('json', value)]);
    }
    const tuple = {
      config: { configurable: { thread_id: t, checkpoint_ns: ns, checkpoint_id: id } },
      checkpoint: await this.serde.loadsTyped('json', checkpoint),
      metadata: await this.serde.loadsTyped('json', metadata),
      pendingWrites,
    };
    if (parent) tuple.parentConfig = { configurable: { thread_id: t, checkpoint_ns: ns, checkpoint_id: parent } };
    return tuple;
  }

  async *list(config, options = {}) {
    const t = config.configurable?.thread_id;
    const ns = config.configurable?.checkpoint_ns ?? '';
    const ids = await this.client.sendCommand(['ZRANGE', this.idx(t, ns), '+', '-', 'BYLEX', 'REV']);
    let n = 0;
    for (const id of ids) {
      if (options.before && id >= options.before.configurable.checkpoint_id) continue;
      if (options.limit !== undefined && n >= options.limit) return;
      n++;
      yield await this.getTuple({ configurable: { thread_id: t, checkpoint_ns: ns, checkpoint_id: id } });
    }
  }

  async put(config, checkpoint, metadata) {
    const t = config.configurable.thread_id;
    const ns = config.configurable.checkpoint_ns ?? '';
    const [[, cp], [, md]] = await Promise.all([this.serde.dumpsTyped(checkpoint), this.serde.dumpsTyped(metadata)]);
    const value = JSON.stringify([dec.decode(cp), dec.decode(md), config.configurable.checkpoint_id]);
    await Promise.all([
      this.client.sendCommand(['SET', this.key(t, ns, checkpoint.id), value]),
      this.client.sendCommand(['ZADD', this.idx(t, ns), '0', checkpoint.id]),
    ]);
    return { configurable: { thread_id: t, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config, writes, taskId) {
    const { thread_id: t, checkpoint_ns: ns = '', checkpoint_id: id } = config.configurable;
    const args = [];
    for (let i = 0; i < writes.length; i++) {
      const [channel, value] = writes[i];
      const [, data] = await this.serde.dumpsTyped(value);
      args.push(JSON.stringify([taskId, WRITES_IDX_MAP[channel] ?? i]), JSON.stringify([taskId, channel, dec.decode(data)]));
    }
    await this.client.sendCommand(['HSET', `${this.key(t, ns, id)}:w`, ...args]);
  }

  async deleteThread(threadId) {
    const ids = await this.client.sendCommand(['ZRANGE', this.idx(threadId, ''), '+', '-', 'BYLEX', 'REV']);
    const keys = ids.flatMap((id) => [this.key(threadId, '', id), `${this.key(threadId, '', id)}:w`]);
    if (keys.length) await this.client.sendCommand(['DEL', ...keys]);
    await this.client.sendCommand(['DEL', this.idx(threadId, '')]);
  }
}
