/** Reply decoders over every shape the clients produce, including the replies still to come. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEdit, decodePublish, decodeStats } from '../dist/reply.js';

describe('reply decoders', () => {
  it('PUBLISH: 3-, 4- and 5-element replies, lost as pairs or flat', () => {
    assert.deepEqual(decodePublish(['1-0', ['channel:a'], 2]), {
      id: '1-0', delivered: ['channel:a'], receivers: 2, lost: [], duplicate: false,
    });
    assert.deepEqual(decodePublish(['1-0', [], 0, []]), { id: '1-0', delivered: [], receivers: 0, lost: [], duplicate: false });
    // The duplicate flag: an integer (RESP2), a boolean (RESP3 mappings) or absent.
    assert.equal(decodePublish(['1-0', [], 0, [], 1]).duplicate, true);
    assert.equal(decodePublish(['1-0', [], 0, [], 0]).duplicate, false);
    assert.equal(decodePublish(['1-0', [], 0, [], true]).duplicate, true);
    assert.equal(decodePublish(['1-0', [], 0, [], false]).duplicate, false);
    const pairs = decodePublish(['1-0', [], 0, [['channel:a', 'missed'], ['stream:s', 'failed']]]);
    assert.deepEqual(pairs.lost, [{ target: 'channel:a', outcome: 'missed' }, { target: 'stream:s', outcome: 'failed' }]);
    assert.deepEqual(decodePublish(['1-0', [], 0, ['channel:a', 'shed']]).lost, [{ target: 'channel:a', outcome: 'shed' }]);
  });

  it('EDIT: an integer, [version, [values]] or [version, values...]', () => {
    assert.deepEqual(decodeEdit(3), { version: 3, incr: [] });
    assert.deepEqual(decodeEdit([3, [5, 7]]), { version: 3, incr: [5, 7] });
    assert.deepEqual(decodeEdit([3, []]), { version: 3, incr: [] });
    assert.deepEqual(decodeEdit([3, 5, 7]), { version: 3, incr: [5, 7] });
  });

  it('maps: RESP2 flat array, RESP3 object and Map decode alike', () => {
    const flat = ['published', 1, 'delivered', 2, 'rejected', 3, 'unrouted', 4, 'deadlettered', 5, 'shed', 6,
      'routes', 7, 'rules', 8, 'last-id', '9-0', 'default', null];
    const want = decodeStats(flat);
    assert.equal(want.lastId, '9-0');
    assert.equal(want.default, null);
    const obj = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));
    assert.deepEqual(decodeStats(obj), want);
    assert.deepEqual(decodeStats(new Map(Object.entries(obj))), want);
  });
});
