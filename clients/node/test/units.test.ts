/** Pure decoding: error texts to classes, envelopes and stream entries to Messages, replies. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CommandError,
  BadOpError,
  ConflictError,
  CrossSlotError,
  EditTypeError,
  ModuleMissingError,
  NoPathError,
  OutOfMemoryError,
  TestFailedError,
  DeniedError,
  ERROR_CLASSES,
  EventTypeError,
  NoSwarmError,
  NoVersionError,
  PayloadError,
  SwarmError,
  WrongTypeError,
  decodeEnvelope,
  decodeMessage,
  decodeStreamEntry,
  errorFromReply,
  registerErrorCode,
  toSwarmError,
} from '../dist/index.js';

describe('errorFromReply', () => {
  const cases: Array<[string, Function, string]> = [
    ['ERR syntax error', CommandError, 'ERR'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', WrongTypeError, 'WRONGTYPE'],
    ["EVENTTYPE event type may not contain wildcard '*' (byte 5)", EventTypeError, 'EVENTTYPE'],
    ["DENIED event type 'task.secret' is denied by rule 4", DeniedError, 'DENIED'],
    ["PAYLOAD invalid JSON at byte 15: expected '\"'", PayloadError, 'PAYLOAD'],
    ["NOSWARM no routing table at key 'swarm:opz'", NoSwarmError, 'NOSWARM'],
    ['CONFLICT version is 2, expected 1', ConflictError, 'CONFLICT'],
    ['NOVERSION version 1 was evicted, the oldest retained is 2', NoVersionError, 'NOVERSION'],
    ["CROSSSLOT target 'stream:x' hashes to slot 1, the table to slot 2", CrossSlotError, 'CROSSSLOT'],
  ];
  for (const [text, cls, code] of cases) {
    it(`${code} -> ${cls.name}`, () => {
      const e = errorFromReply(text);
      assert.ok(e instanceof cls);
      assert.ok(e instanceof SwarmError);
      assert.ok(e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.message, text);
      assert.equal(e.name, cls.name);
    });
  }

  it('extracts the numbers and names', () => {
    assert.equal((errorFromReply("EVENTTYPE event type may not contain wildcard '*' (byte 5)") as EventTypeError).offset, 5);
    assert.equal((errorFromReply("DENIED event type 'x.y' is denied by rule 12") as DeniedError).ruleId, 12);
    assert.equal((errorFromReply("DENIED event type 'b.d' matches no ALLOW rule of the table") as DeniedError).ruleId, null);
    assert.equal((errorFromReply('PAYLOAD invalid JSON at byte 128: nesting deeper than 128') as PayloadError).offset, 128);
    assert.equal((errorFromReply('PAYLOAD payload is 18 bytes, more than swarm.max-payload-bytes (10)') as PayloadError).offset, null);
    assert.equal((errorFromReply("NOSWARM no routing table at key 'a b'") as NoSwarmError).key, 'a b');
    const c = errorFromReply('CONFLICT version is 0, expected 3') as ConflictError;
    assert.deepEqual([c.current, c.expected], [0, 3]);
    assert.equal((errorFromReply('NOVERSION version 9 does not exist, the head is 3') as NoVersionError).version, 9);
  });

  it('EDIT code words have their classes, naming the op and the path', () => {
    const t = errorFromReply("TESTFAILED op 1 test failed at '/tasks/3/owner'");
    assert.ok(t instanceof TestFailedError);
    assert.equal(t.code, 'TESTFAILED');
    assert.equal(t.op, 1);
    assert.equal(t.path, '/tasks/3/owner');
    const p = errorFromReply("NOPATH op 0 path '/a/b' does not exist");
    assert.ok(p instanceof NoPathError);
    assert.equal(p.op, 0);
    const b = errorFromReply('BADOP ops must be a JSON array');
    assert.ok(b instanceof BadOpError);
    assert.equal(b.op, null);
    assert.equal((errorFromReply("BADOP op 1 has an unknown op 'inc'") as BadOpError).op, 1);
    const ty = errorFromReply("TYPE op 0 incr target at '/n' is not an integer");
    assert.ok(ty instanceof EditTypeError);
    assert.equal(ty.code, 'TYPE');
    assert.ok(errorFromReply('OOM out of memory') instanceof OutOfMemoryError);
  });

  it('a known word without a class gives a SwarmError carrying the word; classes can be registered', () => {
    const e = errorFromReply("NOPERM User u has no permissions to run the 'swarm.publish' command");
    assert.equal(e.constructor, SwarmError);
    assert.equal(e.code, 'NOPERM');
    class NoPerm extends SwarmError {}
    registerErrorCode('NOPERM', NoPerm);
    try {
      assert.ok(errorFromReply('NOPERM x') instanceof NoPerm);
    } finally {
      ERROR_CLASSES.delete('NOPERM');
    }
  });

  it('an unknown code word is an ERR keeping the reply as its message', () => {
    const e = errorFromReply('FOO bar baz');
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 'ERR');
    assert.equal(e.message, 'FOO bar baz');
  });

  it('unknown command SWARM.* is a ModuleMissingError saying the module is not loaded', () => {
    for (const text of [
      "ERR unknown command 'SWARM.PUBLISH', with args beginning with: 'k' 't' '{}' ",
      'ERR unknown command `swarm.route`, with args beginning with: `ADD`, ',
    ]) {
      const e = errorFromReply(text);
      assert.ok(e instanceof ModuleMissingError && e instanceof CommandError);
      assert.equal(e.code, 'ERR');
      assert.match(e.message, /^the swarm module is not loaded on this server/);
      assert.match(e.command, /^SWARM\.(PUBLISH|ROUTE)$/);
    }
    assert.ok(!(errorFromReply("ERR unknown command 'FOO'") instanceof ModuleMissingError));
  });

  it('a message without a code word is an ERR', () => {
    const e = errorFromReply('something odd');
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 'ERR');
  });

  it('toSwarmError converts reply errors only', () => {
    class ReplyError extends Error {}
    const converted = toSwarmError(new ReplyError('CONFLICT version is 2, expected 1'));
    assert.ok(converted instanceof ConflictError);
    assert.ok((converted as Error).cause instanceof ReplyError);
    const other = new Error('Connection is closed.');
    assert.equal(toSwarmError(other), other);
  });
});

describe('Message', () => {
  const envelope =
    '{"id":"17-0","swarm":"swarm:\\"ops\\"","type":"task.done","priority":8,"ts":17,"sender":"c-1","payload":{"a": 12.50, "s":"\\",\\"payload\\":"}}';

  it('decodes a channel envelope, keeping the payload text verbatim', () => {
    const m = decodeEnvelope(envelope, 'tasks');
    assert.deepEqual(m, {
      id: '17-0', swarm: 'swarm:"ops"', type: 'task.done', priority: 8, ts: 17, sender: 'c-1',
      payload: { a: 12.5, s: '","payload":' }, payloadText: '{"a": 12.50, "s":"\\",\\"payload\\":"}', channel: 'tasks',
    });
  });

  it('decodes a stream entry (flat array, object or Map) into the same shape', () => {
    const flat = ['id', '17-0', 'swarm', 'swarm:"ops"', 'type', 'task.done', 'priority', '8', 'ts', '17',
      'payload', '{"a": 12.50, "s":"\\",\\"payload\\":"}', 'sender', 'c-1'];
    const fromStream = decodeStreamEntry('log', '17-1', flat);
    const { channel: _c, ...fromChannel } = decodeEnvelope(envelope, 'tasks');
    assert.deepEqual(fromStream, { ...fromChannel, stream: 'log', entryId: '17-1' });
    const obj = Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));
    assert.deepEqual(decodeStreamEntry('log', '17-1', obj), fromStream);
    assert.deepEqual(decodeStreamEntry('log', '17-1', new Map(Object.entries(obj))), fromStream);
    assert.deepEqual(decodeMessage({ stream: 'log', entryId: '17-1', fields: flat }), fromStream);
  });

  it('an entry without swarm or sender leaves them out', () => {
    const m = decodeStreamEntry('s', '1-0', ['id', '1-0', 'type', 'a.b', 'priority', '5', 'ts', '1', 'payload', '[]']);
    assert.equal('swarm' in m, false);
    assert.equal('sender' in m, false);
    assert.deepEqual(m.payload, []);
    const e = decodeMessage('{"id":"1-0","swarm":"s","type":"a.b","priority":5,"ts":1,"payload":null}');
    assert.equal('sender' in e, false);
    assert.equal(e.payloadText, 'null');
  });
});
