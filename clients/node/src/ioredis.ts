/**
 * swarm-redis/ioredis: the swarm commands on ioredis clients, pipelines and transactions.
 *
 *   import { Redis } from 'ioredis';
 *   import 'swarm-redis/ioredis';
 *   const redis = new Redis();
 *   await redis.swarm.publish('swarm:ops', 'task.done', { task: 't-17' });
 *   const [[, id], [, stats]] = (await redis.multi()
 *     .swarm.routeAdd('swarm:ops', 'task.>', 'stream:log')
 *     .swarm.routeStats('swarm:ops')
 *     .exec())!;
 *
 * Importing this module adds a `swarm` property to ioredis's Redis, Cluster and Pipeline
 * (what multi() returns too). Each command is sent as an ioredis Command whose reply is
 * decoded by the same table as the Swarm wrapper (commands.ts), so pipeline and exec
 * results are the same typed values. On the client, errors are SwarmError classes; in a
 * pipeline's results they are ioredis's ReplyError (toSwarmError converts them).
 * Each command names its key, so ioredis's Cluster sends it to the node owning the key's
 * slot. The `keyPrefix` option is not applied (the targets inside the arguments could not
 * be prefixed consistently).
 */
import { Cluster, Command, Pipeline, Redis, type ChainableCommander } from 'ioredis';
import { COMMANDS, type ArgsOf, type CommandSpec, type ReplyOf, type SwarmCommandName } from './commands.js';
import { toSwarmError } from './errors.js';

/** The swarm commands on an ioredis client: each resolves to its decoded reply. */
export type SwarmIORedisCommands = {
  readonly [N in SwarmCommandName]: (...args: ArgsOf<N>) => Promise<ReplyOf<N>>;
};

/** The swarm commands on a pipeline or transaction: each queues and returns the pipeline. */
export type SwarmIORedisChain = {
  readonly [N in SwarmCommandName]: (...args: ArgsOf<N>) => ChainableCommander;
};

declare module 'ioredis' {
  interface Redis {
    /** The swarm commands (swarm-redis/ioredis). */
    readonly swarm: SwarmIORedisCommands;
  }
  interface Cluster {
    /** The swarm commands (swarm-redis/ioredis). */
    readonly swarm: SwarmIORedisCommands;
  }
}

declare module 'ioredis' {
  interface ChainableCommander {
    /** The swarm commands, queued on this pipeline or transaction (swarm-redis/ioredis). */
    readonly swarm: SwarmIORedisChain;
  }
}

/**
 * An ioredis Command whose reply is decoded by a swarm reply decoder, and whose key is
 * known (ioredis's Cluster routes a command by its first key).
 */
class SwarmCommand extends Command {
  private queued = false;

  constructor(
    args: string[],
    private readonly keyIndex: number,
    private readonly decode: (reply: unknown) => unknown,
    readOnly: boolean,
  ) {
    super(args[0]!, args.slice(1), { replyEncoding: 'utf8', readOnly });
  }

  override getKeys(): Array<string | Buffer> {
    return this.keyIndex < 0 ? [] : [this.args[this.keyIndex - 1] as string];
  }

  override transformReply(result: Buffer | Buffer[]): string | string[] | Buffer | Buffer[] {
    const r = super.transformReply(result);
    // In a transaction the command first answers QUEUED; its real reply comes with EXEC.
    if (this.inTransaction && !this.queued && r === 'QUEUED') {
      this.queued = true;
      return r;
    }
    // Typed as the driver's raw reply types; the value is the decoded reply.
    return this.decode(r) as string;
  }
}

interface CommandSink {
  sendCommand(command: Command): unknown;
}

function commandsOn(target: CommandSink, chain: boolean): Record<string, (...a: unknown[]) => unknown> {
  const out: Record<string, (...a: unknown[]) => unknown> = {};
  for (const [name, s] of Object.entries(COMMANDS) as Array<[string, CommandSpec<unknown[], unknown>]>) {
    out[name] = (...a: unknown[]) => {
      const cmd = new SwarmCommand(s.args(...a), s.key, (r) => s.decode(r), s.readOnly);
      if (chain) {
        target.sendCommand(cmd);
        return target;
      }
      return (target.sendCommand(cmd) as Promise<unknown>).catch((err: unknown) => {
        throw toSwarmError(err);
      });
    };
  }
  return out;
}

function install(proto: object, chain: boolean): void {
  if (Object.prototype.hasOwnProperty.call(proto, 'swarm')) return;
  Object.defineProperty(proto, 'swarm', {
    configurable: true,
    get(this: CommandSink) {
      const cmds = commandsOn(this, chain);
      Object.defineProperty(this, 'swarm', { value: cmds, configurable: true });
      return cmds;
    },
  });
}

install(Redis.prototype, false);
install(Cluster.prototype, false);
install(Pipeline.prototype, true);

/** The swarm commands on any ioredis client, for code that avoids the prototype property. */
export function swarmCommands(client: Redis | Cluster): SwarmIORedisCommands {
  return commandsOn(client as unknown as CommandSink, false) as unknown as SwarmIORedisCommands;
}
