"""swarm-redis: a typed client for the swarm Redis module over redis-py (>= 4.3).

Sync: ``Swarm(redis.Redis(...))``; asyncio: ``swarm_redis.aio.AsyncSwarm(redis.asyncio.Redis(...))``.
Both are the command group of ``swarm_redis.commands`` (which also works on pipelines and
cluster clients) plus helpers: subscriptions, stream consumers, shared state.
"""

from .client import (
    DEFAULT, UNCHANGED, Inbox, Pipeline, Redis, State, StreamConsumer, Subscription, Swarm,
    SwarmModuleCommands,
)
from .commands import RouteCommands, SnapshotCommands, SwarmCommands
from .errors import (
    ERROR_CLASSES, BadOpError, BusyKeyError, CommandError, ConflictError, CrossSlotError,
    DeniedError, EditTypeError, EventTypeError, ModuleMissingError, NoPathError, NoSwarmError,
    NoVersionError, OutOfMemoryError, PayloadError, RequestTimeoutError, SwarmError,
    TestFailedError,
    WrongTypeError, convert_error, error_from_reply, register_error_code,
)
from .types import (
    ConnectionEvent, EditAdd, EditIncr, EditMoveCopy, EditOp, EditRemove, EditReplace,
    EditResult, EditTest, Loss, Message, PublishResult, RawJSON, Reply, Route, Rule,
    SnapshotInfo, Stats, StatsPage, TableStats, Version, VersionEntry, Versioned, decode_envelope, decode_reply,
    decode_reply_entry, decode_stream_entry, raw_json,
)

__version__ = "0.2.0"

__all__ = [
    "Swarm", "SwarmCommands", "RouteCommands", "SnapshotCommands", "Subscription",
    "StreamConsumer", "State", "UNCHANGED", "DEFAULT", "SwarmModuleCommands", "Redis",
    "Pipeline", "SwarmError", "CommandError", "WrongTypeError", "EventTypeError",
    "DeniedError", "PayloadError", "NoSwarmError", "ConflictError", "NoVersionError",
    "CrossSlotError", "TestFailedError", "NoPathError", "BadOpError", "EditTypeError",
    "BusyKeyError", "OutOfMemoryError", "ModuleMissingError", "ERROR_CLASSES",
    "register_error_code", "error_from_reply", "convert_error", "ConnectionEvent", "Message",
    "PublishResult", "Loss", "Route", "Rule", "Stats", "VersionEntry", "SnapshotInfo",
    "EditResult", "Versioned", "RawJSON", "raw_json", "decode_envelope",
    "decode_stream_entry", "EditOp", "EditAdd", "EditRemove", "EditReplace", "EditMoveCopy",
    "EditTest", "EditIncr", "RequestTimeoutError", "Reply", "Version", "decode_reply",
    "decode_reply_entry", "Inbox", "TableStats", "StatsPage",
]
