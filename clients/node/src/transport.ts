/**
 * One small interface over the two Node clients, so the rest of the package never looks at
 * which one it was given:
 *
 *   node-redis 4/5  sendCommand(args), duplicate() + connect(), subscribe(channels, listener)
 *   ioredis 5       call(...args), duplicate() (connects by itself), subscribe + 'message'
 *
 * Arguments are strings by the time they get here (commands.ts turns numbers and JSON
 * values into them); replies come back raw and are normalised by reply.ts, whatever the
 * protocol (RESP2 arrays, RESP3 maps as objects or Maps). Reply errors are converted to
 * SwarmError subclasses here, in one place.
 *
 * Connections this package opens (duplicate()) are its own: each has an `error` listener
 * from the moment it exists, so an outage never becomes an unhandled 'error' event (which
 * kills a node-redis process) nor a line printed by ioredis. The driver reconnects it (and
 * re-subscribes its channels); the outage and the recovery are reported to an observer as
 * ConnectionEvents, once per outage. destroy() drops it at once, for cancellation.
 */
import { SwarmError, isReplyError, toSwarmError } from './errors.js';

export type Listener = (channel: string, message: string) => void;

/** What a connection of this package is for. */
export type ConnectionRole = 'subscription' | 'consumer' | 'wait' | 'inbox';

/** A connection of this package lost its server (`down`) or is ready again (`up`). */
export interface ConnectionEvent {
  role: ConnectionRole;
  state: 'down' | 'up';
  /** The driver's error, for `down`. */
  error?: unknown;
}

export type ConnectionObserver = (event: ConnectionEvent) => void;

export interface Transport {
  readonly kind: 'node-redis' | 'ioredis';
  call(args: readonly string[]): Promise<unknown>;
  /** A new connection with the same options, connected, owned by the caller. */
  duplicate(role?: ConnectionRole, observe?: ConnectionObserver): Promise<Transport>;
  subscribe(channels: readonly string[], listener: Listener): Promise<void>;
  unsubscribe(channels: readonly string[]): Promise<void>;
  close(): Promise<void>;
  /** Resolves once the connection is ready (again); rejects once it is closed for good. */
  ready?(signal?: AbortSignal): Promise<void>;
  /** Drops the connection now: commands in flight fail. */
  destroy?(): void;
  /** False while the connection is down. */
  readonly isReady?: boolean;
}

/** Structural view of a node-redis client (v4 or v5): only what is used here. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  subscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channels?: string[]): Promise<unknown>;
  isOpen?: boolean;
  isReady?: boolean;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
  destroy?(): void;
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

// The parts of the drivers used on connections this package owns, beyond the views above.
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

export type AnyClient = NodeRedisLike | IORedisLike | Transport;

async function wrap<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toSwarmError(err);
  }
}

/** Reports down once per outage and up once it is over. */
function watch(conn: Emitter, role: ConnectionRole, observe: ConnectionObserver | undefined): void {
  let down = false;
  const lost = (error?: unknown): void => {
    if (down) return;
    down = true;
    observe?.(error === undefined ? { role, state: 'down' } : { role, state: 'down', error });
  };
  // node-redis emits 'error' when the socket closes; ioredis may only say 'reconnecting'.
  conn.on('error', lost as (...args: never[]) => void);
  conn.on('reconnecting', (() => lost()) as (...args: never[]) => void);
  conn.on('ready', (() => {
    if (!down) return;
    down = false;
    observe?.({ role, state: 'up' });
  }) as (...args: never[]) => void);
}

/* ---- Abort listeners ---- */

// One 'abort' listener per signal, fanning out to this package's callbacks: an application
// that hands one signal to many consumers and waits would otherwise pass Node's listener
// limit, and Node would print a MaxListenersExceededWarning.
const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs fn once when the signal aborts (in a microtask if it already has); the returned
 * function unregisters it.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  }
  let set = abortCallbacks.get(signal);
  if (!set) {
    const callbacks = new Set<() => void>();
    set = callbacks;
    abortCallbacks.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        for (const cb of [...callbacks]) cb();
        callbacks.clear();
      },
      { once: true },
    );
  }
  const callbacks = set;
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    callbacks.delete(once);
    fn();
  };
  callbacks.add(once);
  return () => {
    done = true;
    callbacks.delete(once);
  };
}

function waitEvent(conn: Emitter, ok: string, fail: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      conn.off(ok, onOk);
      conn.off(fail, onFail);
      unlisten?.();
    };
    const onOk = (): void => {
      done();
      resolve();
    };
    const onFail = (): void => {
      done();
      reject(new Error('connection closed'));
    };
    conn.once(ok, onOk);
    conn.once(fail, onFail);
    const unlisten = signal
      ? onAbort(signal, () => {
          done();
          reject(signal.reason);
        })
      : undefined;
  });
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

  async duplicate(role: ConnectionRole = 'consumer', observe?: ConnectionObserver): Promise<Transport> {
    const dup = this.client.duplicate();
    watch(dup as unknown as Emitter, role, observe);
    try {
      await dup.connect();
    } catch (err) {
      dupDestroy(dup);
      throw err;
    }
    return new NodeRedisTransport(dup, true);
  }

  async subscribe(channels: readonly string[], listener: Listener): Promise<void> {
    await wrap(this.client.subscribe([...channels], (message, channel) => listener(channel, message)));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await wrap(this.client.unsubscribe([...channels]));
  }

  get isReady(): boolean {
    return this.client.isReady !== false;
  }

  async ready(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (this.client.isReady !== false) return;
    if (this.client.isOpen === false) throw new Error('connection closed');
    await waitEvent(this.client as unknown as Emitter, 'ready', 'end', signal);
  }

  destroy(): void {
    if (this.owned) dupDestroy(this.client);
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.isOpen === false) return;
    const c = this.client;
    try {
      // An orderly QUIT needs the server; during an outage drop the socket instead.
      if (c.isReady === false) dupDestroy(c);
      else if (typeof c.close === 'function') await c.close();
      else if (typeof c.quit === 'function') await c.quit();
      else if (typeof c.disconnect === 'function') await c.disconnect();
    } catch {
      dupDestroy(c);
    }
  }
}

function dupDestroy(c: NodeRedisLike): void {
  try {
    if (typeof c.destroy === 'function') c.destroy();
    else if (typeof c.disconnect === 'function') void c.disconnect().catch(() => undefined);
  } catch {
    // already closed
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

  async duplicate(role: ConnectionRole = 'consumer', observe?: ConnectionObserver): Promise<Transport> {
    // Commands wait for the reconnection however long the outage lasts (cancel them with
    // an AbortSignal), instead of failing after maxRetriesPerRequest reconnection attempts.
    const dup = (this.client as unknown as { duplicate(o: object): IORedisLike }).duplicate({
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    watch(dup as unknown as Emitter, role, observe);
    const t = new IORedisTransport(dup, true);
    try {
      await t.ready();
    } catch (err) {
      t.destroy();
      throw err;
    }
    return t;
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

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  async ready(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    const s = this.client.status;
    if (s === 'ready') return;
    if (s === 'end') throw new Error('connection closed');
    await waitEvent(this.client as unknown as Emitter, 'ready', 'end', signal);
  }

  destroy(): void {
    if (this.owned) (this.client as unknown as { disconnect(): void }).disconnect();
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      this.destroy();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.destroy();
    }
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

/**
 * Runs `op` and settles with it, or rejects with the signal's reason as soon as the signal
 * aborts (calling `cancel` first, e.g. to drop the connection `op` blocks).
 */
export function abortable<T>(op: Promise<T>, signal: AbortSignal | undefined, cancel: () => void): Promise<T> {
  if (!signal) return op;
  if (signal.aborted) {
    op.catch(() => undefined);
    cancel();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const unlisten = onAbort(signal, () => {
      op.catch(() => undefined);
      cancel();
      reject(signal.reason);
    });
    op.then(
      (v) => {
        unlisten();
        resolve(v);
      },
      (e) => {
        unlisten();
        reject(e);
      },
    );
  });
}

/** A failure of the connection rather than an error reply (those are SwarmErrors by now). */
export function isConnectionError(err: unknown): boolean {
  return err instanceof Error && !(err instanceof SwarmError) && !isReplyError(err);
}

/** Waits ms, or rejects with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      unlisten?.();
      resolve();
    }, ms);
    const unlisten = signal
      ? onAbort(signal, () => {
          clearTimeout(t);
          reject(signal.reason);
        })
      : undefined;
  });
}

/**
 * Runs `op` on an owned connection until it gives an answer: a failure of the connection
 * (not an error reply) waits for the driver to reconnect and runs it again, a LOADING reply
 * (a restarted server loading its data) runs it again after a growing delay; `onRetry`
 * runs before each retry after a reconnection. An abort or a connection closed for good ends it.
 */
export async function healing<T>(
  conn: Transport,
  signal: AbortSignal | undefined,
  op: () => Promise<T>,
  onRetry?: () => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // A server that restarts answers LOADING until its dataset is loaded: wait it out.
      if (err instanceof SwarmError && err.code === 'LOADING') {
        await sleep(Math.min(1000, 25 * 2 ** Math.min(attempt, 6)), signal);
        continue;
      }
      if (!isConnectionError(err) || !conn.ready) throw err;
      try {
        await conn.ready(signal);
      } catch {
        if (signal?.aborted) throw signal.reason;
        throw err;
      }
      // The driver may not have noticed the loss yet: back off a little before sending again.
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** Math.min(attempt, 6)), signal);
      onRetry?.();
    }
  }
}

/**
 * A signal that aborts when either does; dispose() removes the listeners it put on them
 * (call it when done, so a long-lived signal does not collect listeners).
 */
export function eitherSignal(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined,
): { signal: AbortSignal | undefined; dispose(): void } {
  if (!a || !b) return { signal: a ?? b, dispose: () => undefined };
  const c = new AbortController();
  if (a.aborted) c.abort(a.reason);
  else if (b.aborted) c.abort(b.reason);
  const offA = onAbort(a, () => c.abort(a.reason));
  const offB = onAbort(b, () => c.abort(b.reason));
  return {
    signal: c.signal,
    dispose: () => {
      offA();
      offB();
    },
  };
}
