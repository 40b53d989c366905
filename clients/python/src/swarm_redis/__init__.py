"""swarm-redis: a typed client for the swarm Redis module over redis-py (>= 4.3).

Sync: ``Swarm(redis.Redis(...))``; asyncio: ``swarm_redis.aio.AsyncSwarm(redis.asyncio.Redis(...))``.
"""

from .client import (
    UNCHANGED, RouteCommands, SnapshotCommands, State, StreamConsumer, Subscription, Swarm,
)
from .errors import (
    ERROR_CLASSES, CommandError, ConflictError, CrossSlotError, DeniedError, EventTypeError,
    NoSwarmError, NoVersionError, PayloadError, SwarmError, WrongTypeError, convert_error,
    error_from_reply, register_error_code,
)
from .types import (
    EditResult, Loss, Message, PublishResult, RawJSON, Route, Rule, SnapshotInfo, Stats,
    VersionEntry, Versioned, decode_envelope, decode_stream_entry, raw_json,
)

__version__ = "0.1.0"

__all__ = [
    "Swarm", "RouteCommands", "SnapshotCommands", "Subscription", "StreamConsumer", "State",
    "UNCHANGED", "SwarmError", "CommandError", "WrongTypeError", "EventTypeError",
    "DeniedError", "PayloadError", "NoSwarmError", "ConflictError", "NoVersionError",
    "CrossSlotError", "ERROR_CLASSES", "register_error_code", "error_from_reply",
    "convert_error", "Message", "PublishResult", "Loss", "Route", "Rule", "Stats",
    "VersionEntry", "SnapshotInfo", "EditResult", "Versioned", "RawJSON", "raw_json",
    "decode_envelope", "decode_stream_entry",
]
