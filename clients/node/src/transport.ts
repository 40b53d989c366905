/**
 * One small interface over the two Node clients, so the rest of the package never looks at
 * which one it was given:
 *
 *   node-redis 4/5  sendCommand(args), duplicate() + connect(), subscribe(channels, listener)
 *   ioredis 5       call(...args), duplicate() (connects by itself), subscribe + 'message'
 *
 * Arguments are strings by the time they get here (swarm.ts turns numbers and JSON values
 * into them); replies come back raw and are normalised by reply.ts, whatever the protocol
 * (RESP2 arrays, RESP3 maps as objects or Maps). Reply errors are converted to SwarmError
 * subclasses here, in one place.
 */
import { toSwarmError } from './errors.js';

export type Listener = (channel: string, message: string) => void;

export interface Transport {
  readonly kind: 'node-redis' | 'ioredis';
  call(args: readonly string[]): Promise<unknown>;
  /** A new connection with the same options, connected. */
  duplicate(): Promise<Transport>;
  subscribe(channels: readonly string[], listener: Listener): Promise<void>;
  unsubscribe(channels: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Structural view of a node-redis client (v4 or v5): only what is used here. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  subscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channels?: string[]): Promise<unknown>;
  isOpen?: boolean;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** Structural view of an ioredis client. */
export interface IORedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IORedisLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  off(event: 'message', listener: (channel: string, message: string) => void): unknown;
  quit(): Promise<unknown>;
  status: string;
}

export type AnyClient = NodeRedisLike | IORedisLike | Transport;

async function wrap<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toSwarmError(err);
  }
}

class NodeRedisTransport implements Transport {
  readonly kind = 'node-redis' as const;
  constructor(
    private readonly client: NodeRedisLike,
    private readonly owned: boolean,
  ) {}

  call(args: readonly string[]): Promise<unknown> {
    return wrap(this.client.sendCommand([...args]));
  }

  async duplicate(): Promise<Transport> {
    const dup = this.client.duplicate();
    await dup.connect();
    return new NodeRedisTransport(dup, true);
  }

  async subscribe(channels: readonly string[], listener: Listener): Promise<void> {
    await wrap(this.client.subscribe([...channels], (message, channel) => listener(channel, message)));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await wrap(this.client.unsubscribe([...channels]));
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.isOpen === false) return;
    const c = this.client;
    if (typeof c.close === 'function') await c.close();
    else if (typeof c.quit === 'function') await c.quit();
    else if (typeof c.disconnect === 'function') await c.disconnect();
  }
}

class IORedisTransport implements Transport {
  readonly kind = 'ioredis' as const;
  private listeners: Array<(channel: string, message: string) => void> = [];
  constructor(
    private readonly client: IORedisLike,
    private readonly owned: boolean,
  ) {}

  call(args: readonly string[]): Promise<unknown> {
    const [cmd, ...rest] = args;
    return wrap(this.client.call(cmd!, ...rest));
  }

  async duplicate(): Promise<Transport> {
    return new IORedisTransport(this.client.duplicate(), true);
  }

  async subscribe(channels: readonly string[], listener: Listener): Promise<void> {
    const wanted = new Set(channels);
    const l = (channel: string, message: string): void => {
      if (wanted.has(channel)) listener(channel, message);
    };
    this.listeners.push(l);
    this.client.on('message', l);
    await wrap(this.client.subscribe(...channels));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await wrap(this.client.unsubscribe(...channels));
    for (const l of this.listeners) this.client.off('message', l);
    this.listeners = [];
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.status === 'end') return;
    await this.client.quit();
  }
}

function isTransport(c: AnyClient): c is Transport {
  return typeof (c as Transport).kind === 'string' && typeof (c as Transport).call === 'function';
}

/** Wraps a node-redis or ioredis client (or passes a Transport through). */
export function toTransport(client: AnyClient): Transport {
  if (isTransport(client)) return client;
  // ioredis also has a sendCommand (taking a Command object), so test for it first.
  if (typeof (client as IORedisLike).call === 'function' && typeof (client as IORedisLike).status === 'string') {
    return new IORedisTransport(client as IORedisLike, false);
  }
  if (typeof (client as NodeRedisLike).sendCommand === 'function') {
    return new NodeRedisTransport(client as NodeRedisLike, false);
  }
  throw new TypeError('expected a node-redis client (redis 4 or 5) or an ioredis client');
}
