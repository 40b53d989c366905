// The Node side of test_interop.py: the TypeScript client (clients/node/dist, built by
// `npm ci` there) over node-redis, driven by JSON lines on stdin, one JSON line answered on
// stdout per command, in order: {"ok": <result>} or {"error": "<message>"}.
//
//   node interop_peer.mjs <port>
//
// Commands ({"op": ..., ...}):
//   serve    {key, channels?, stream?, sender?}  answers every request that arrives on the
//            channels (a subscription) or the stream (a consumer group) with reply(): payload
//            {"n": <request n>, "by": "node", "got": <the request as this client decoded it>},
//            sender NODE_SENDER except for n == 0; answers once subscribed (or the group exists)
//   request  {key, type, payloads, timeoutMs, sender?}  concurrent request()s: their replies
//   publish  {key, type, payload, opts}  publish(): the PublishResult
//   collect  {channels}  subscribes; answers once subscribed; `collected` returns what came
//   collected {}  the messages collect received so far, decoded (decodeEnvelope)
//   entries  {stream}  the stream's entries decoded as messages (decodeStreamEntry)
//   xrange   {stream}  the stream's raw entries: [[id, [field, value, ...]], ...]
//   envelope {text}  decodeEnvelope(text)
//   failures {}  errors the responders ran into
//   close    {}  closes everything and exits
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const nodeDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node');
const swarmLib = await import(pathToFileURL(join(nodeDir, 'dist', 'index.js')).href);
const redisLib = await import(pathToFileURL(createRequire(join(nodeDir, 'package.json')).resolve('redis')).href);
const createClient = redisLib.createClient ?? redisLib.default.createClient;
const { Swarm, decodeEnvelope, decodeStreamEntry } = swarmLib;

const client = createClient({ url: `redis://127.0.0.1:${process.argv[2]}` });
client.on('error', () => {});
await client.connect();
const sw = new Swarm(client);
const closers = [];
const collected = [];
const failures = [];
/** The responder's sender: escapes and non-ASCII, to compare both clients' JSON text. */
const NODE_SENDER = 'node-w\u00f6rker "1"\\\t';

function view(m) {
  const v = { ...m };
  for (const k of Object.keys(v)) if (v[k] === undefined) delete v[k];
  return v;
}

async function answer(m) {
  if (m.replyTo === undefined) return;
  const n = m.payload?.n;
  const opts = n === 0 ? {} : { sender: NODE_SENDER };
  await sw.reply(m, { n, by: 'node', got: view(m) }, opts);
}

const ops = {
  async serve({ key, channels, stream, sender }) {
    if (channels) {
      const sub = await sw.subscribe(key, { channels });
      closers.push(() => sub.close());
      void (async () => {
        for await (const m of sub) await answer(m).catch((e) => failures.push(String(e)));
      })();
    }
    if (stream) {
      const ac = new AbortController();
      const c = sw.consumer({ stream, group: 'node', consumer: sender ?? 'node-1', blockMs: 50, signal: ac.signal });
      await c.ensureGroup();
      closers.push(async () => {
        ac.abort();
        await c.close();
      });
      void (async () => {
        while (!c.isClosed) {
          let msgs;
          try {
            msgs = await c.read();
          } catch (e) {
            if (!c.isClosed) failures.push(String(e));
            return;
          }
          for (const m of msgs) {
            await answer(m).catch((e) => failures.push(String(e)));
            await c.ack(m);
          }
        }
      })();
    }
    return true;
  },
  async request({ key, type, payloads, timeoutMs, sender }) {
    const opts = { timeoutMs };
    if (sender !== undefined) opts.sender = sender;
    const replies = await Promise.all(payloads.map((p) => sw.request(key, type, p, opts)));
    return { replies: replies.map(view), late: sw.lateReplies, inboxChannels: sw.inboxChannels };
  },
  async publish({ key, type, payload, opts }) {
    return sw.publish(key, type, payload, opts ?? {});
  },
  async collect({ channels }) {
    const sub = await sw.subscribe('unused', { channels });
    closers.push(() => sub.close());
    void (async () => {
      for await (const m of sub) collected.push(view(m));
    })();
    return true;
  },
  async collected() {
    return collected;
  },
  async entries({ stream }) {
    const raw = await sw.call('XRANGE', stream, '-', '+');
    return raw.map(([id, fields]) => view(decodeStreamEntry(stream, id, fields)));
  },
  async xrange({ stream }) {
    return sw.call('XRANGE', stream, '-', '+');
  },
  async envelope({ text }) {
    return view(decodeEnvelope(text));
  },
  async failures() {
    return failures;
  },
  async close() {
    for (const c of closers) await c();
    await sw.close();
    await client.quit();
    return true;
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const cmd = JSON.parse(line);
  let out;
  try {
    out = { ok: await ops[cmd.op](cmd) };
  } catch (e) {
    out = { error: `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}` };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  if (cmd.op === 'close') break;
}
process.exit(0);
