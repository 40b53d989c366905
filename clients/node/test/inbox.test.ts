/**
 * The request inbox's matching, without a server (a Transport whose publish answers when the
 * test says): a reply that arrives before its publish's answer is held and matched once the
 * id is known; a reply nobody waits for is counted late; a reply held for a request that
 * was aborted before its id was known is counted late, not given to the next request; the
 * reply envelope's text and decoding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Swarm, decodeReply, encodeReply, type Transport } from '../dist/index.js';

class FakeTransport implements Transport {
  readonly kind = 'node-redis' as const;
  listeners = new Map<string, (channel: string, message: string) => void>();
  publishes: Array<{ args: readonly string[]; answer(id: string): void }> = [];

  call(args: readonly string[]): Promise<unknown> {
    if (args[0] !== 'SWARM.PUBLISH') return Promise.reject(new Error(`unexpected ${args[0]}`));
    return new Promise((resolve) => {
      this.publishes.push({ args, answer: (id) => resolve([id, ['channel:q'], 1, [], 0]) });
    });
  }
  async duplicate(): Promise<Transport> {
    return this;
  }
  async subscribe(channels: readonly string[], listener: (channel: string, message: string) => void): Promise<void> {
    for (const c of channels) this.listeners.set(c, listener);
  }
  /** The channel of the nth subscription. */
  channel(n = 0): string {
    return [...this.listeners.keys()][n]!;
  }
  async unsubscribe(): Promise<void> {}
  async close(): Promise<void> {}
  /** A reply envelope arriving on the inbox (on its nth channel). */
  deliver(corr: string, payload: unknown, n = 0): void {
    const channel = this.channel(n);
    this.listeners.get(channel)!(channel, encodeReply(corr, JSON.stringify(payload), Date.now()));
  }
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

describe('request inbox', () => {
  it('a reply before the publish answer is held and matched', async () => {
    const t = new FakeTransport();
    const sw = new Swarm(t);
    const req = sw.request<{ ok: number }>('k', 'ask.x', {}, { timeoutMs: 5000 });
    await until(() => t.publishes.length === 1);
    const args = t.publishes[0]!.args;
    assert.deepEqual(args.slice(-2), ['REPLYTO', `channel:${t.channel()}`]);
    assert.match(t.channel(), /^swarm\.inbox\.[0-9a-f-]{36}\.0$/);
    t.deliver('5-0', { ok: 1 }); // before the publish answered
    t.publishes[0]!.answer('5-0');
    const r = await req;
    assert.deepEqual(r.payload, { ok: 1 });
    assert.equal(r.corr, '5-0');
    assert.equal(sw.lateReplies, 0);
    t.deliver('5-0', { ok: 2 }); // a second reply
    t.deliver('9-9', {}); // for nobody
    assert.equal(sw.lateReplies, 2);
    await sw.close();
  });

  it('a held reply of an aborted request is late, never given to another request', async () => {
    const t = new FakeTransport();
    const sw = new Swarm(t);
    const ac = new AbortController();
    const a = sw.request('k', 'ask.x', {}, { signal: ac.signal, timeoutMs: 5000 });
    const b = sw.request('k', 'ask.x', {}, { timeoutMs: 5000 });
    await until(() => t.publishes.length === 2);
    t.deliver('1-0', 'for a');
    ac.abort();
    await assert.rejects(a, (e: unknown) => (e as Error).name === 'AbortError');
    t.publishes[0]!.answer('1-0');
    assert.equal(sw.lateReplies, 0, 'held while b still publishes');
    t.publishes[1]!.answer('2-0');
    await until(() => sw.lateReplies === 1);
    t.deliver('2-0', 'for b');
    assert.equal((await b).payload, 'for b');
    await sw.close();
  });

  it('two tables issuing the same id: each reply goes to the request of its table', async () => {
    const t = new FakeTransport();
    const sw = new Swarm(t);
    const a = sw.request('table:a', 'ask.x', {}, { timeoutMs: 5000 });
    await until(() => t.publishes.length === 1);
    const b = sw.request('table:b', 'ask.x', {}, { timeoutMs: 5000 });
    const a2 = sw.request('table:a', 'ask.x', {}, { timeoutMs: 5000 });
    await until(() => t.publishes.length === 3);
    assert.equal(t.listeners.size, 2, 'one channel per table');
    const on = (n: number) => t.publishes.filter((x) => x.args.at(-1) === `channel:${t.channel(n)}`);
    const [pa, pa2] = on(0);
    const [pb] = on(1);
    assert.ok(pa && pa2 && pb);
    pa.answer('7-0');
    pb.answer('7-0');
    pa2.answer('7-1');
    t.deliver('7-0', 'b', 1);
    t.deliver('7-0', 'a', 0);
    t.deliver('7-1', 'a2', 0);
    assert.deepEqual([(await a).payload, (await b).payload, (await a2).payload], ['a', 'b', 'a2']);
    assert.equal(sw.lateReplies, 0);
    await sw.close();
  });

  it('the reply envelope', () => {
    assert.equal(encodeReply('1-0', '{"a":1}', 17, 'x"y'), '{"corr":"1-0","ts":17,"sender":"x\\"y","payload":{"a":1}}');
    assert.equal(encodeReply('1-0', '[1, 2]', 17), '{"corr":"1-0","ts":17,"payload":[1, 2]}');
    const r = decodeReply('{"corr":"1-0","ts":17,"sender":"s","payload":{"n": 1.50}}');
    assert.deepEqual(r, { corr: '1-0', ts: 17, sender: 's', payload: { n: 1.5 }, payloadText: '{"n": 1.50}' });
    assert.throws(() => decodeReply('{"id":"1-0"}'), TypeError);
  });
});
