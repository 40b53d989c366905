"""Error classes, one per code word of the module's error replies, all under SwarmError.

The module starts every error with a code word (``CONFLICT version is 2, expected 1``).
SwarmError subclasses ``redis.ResponseError``, so existing ``except redis.ResponseError``
blocks still catch these.

redis-py removes a leading ``ERR `` from error messages (``ERR PRIORITY must be ...``
arrives as ``PRIORITY must be ...``). So a message whose first word is neither a known code
word nor upper case is an ``ERR``; an upper-case first word that is one of the module's
argument names (``PRIORITY``, ``SENDER``, ``KEEP``...) is an ``ERR`` too; any other
upper-case first word is taken as a code word without a class of its own and gives a plain
SwarmError carrying it in ``.code``. Add classes for new words with register_error_code().
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Type

from redis.exceptions import ResponseError

__all__ = [
    "SwarmError",
    "CommandError",
    "WrongTypeError",
    "EventTypeError",
    "DeniedError",
    "PayloadError",
    "NoSwarmError",
    "ConflictError",
    "NoVersionError",
    "CrossSlotError",
    "TestFailedError",
    "NoPathError",
    "BadOpError",
    "EditTypeError",
    "BusyKeyError",
    "OutOfMemoryError",
    "ModuleMissingError",
    "RequestTimeoutError",
    "ERROR_CLASSES",
    "register_error_code",
    "error_from_reply",
    "convert_error",
]


class SwarmError(ResponseError):  # type: ignore[misc]
    """Base class: ``.code`` is the code word, ``.detail`` the text after it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code} {detail}")
        self.code = code
        self.detail = detail


class CommandError(SwarmError):
    """``ERR``: syntax, arity, ranges, bad targets or regexes, ``no such key``."""


class WrongTypeError(SwarmError):
    """``WRONGTYPE``: the key holds another kind of value."""


def _int(pattern: str, text: str) -> Optional[int]:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


class EventTypeError(SwarmError):
    """``EVENTTYPE``: a bad event type or pattern; ``.offset`` is the byte named, if any."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.offset = _int(r"\(byte (\d+)\)", detail)
        if self.offset is None:
            self.offset = _int(r"at byte (\d+)", detail)


class DeniedError(SwarmError):
    """``DENIED``: an admission rule refused the type; ``.rule_id`` (None: no ALLOW rule)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.rule_id = _int(r"by rule (\d+)", detail)


class PayloadError(SwarmError):
    """``PAYLOAD``: bad or oversized JSON; ``.offset`` is the byte offset (None: too big)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.offset = _int(r"at byte (\d+)", detail)


class NoSwarmError(SwarmError):
    """``NOSWARM``: no routing table at the key; ``.key`` is that key."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        m = re.search(r"at key '(.*)'$", detail, re.S)
        self.key = m.group(1) if m else None


class ConflictError(SwarmError):
    """``CONFLICT``: IFVERSION mismatch; ``.current`` (0: no key) and ``.expected``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        m = re.search(r"version is (\d+), expected (\d+)", detail)
        self.current = int(m.group(1)) if m else None
        self.expected = int(m.group(2)) if m else None
        self.attempts: Optional[int] = None


class NoVersionError(SwarmError):
    """``NOVERSION``: the snapshot version is not retained; ``.version`` is that version."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.version = _int(r"^version (\d+)", detail)


class CrossSlotError(SwarmError):
    """``CROSSSLOT``: (cluster) a stream target outside the routing table's slot."""


class _EditOpError(SwarmError):
    """An EDIT error naming an op: ``.op`` is its 0-based index (None when none is named)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.op = _int(r"^op (\d+)", detail)


class TestFailedError(_EditOpError):
    """``TESTFAILED``: a ``test`` op of EDIT did not hold; ``.op``, ``.path``."""

    __test__ = False  # not a pytest test class

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        m = re.search(r"failed at '(.*)'$", detail, re.S)
        self.path = m.group(1) if m else None


class NoPathError(_EditOpError):
    """``NOPATH``: an EDIT op's ``path`` or ``from`` names nothing writable; ``.op``."""


class BadOpError(_EditOpError):
    """``BADOP``: EDIT's ops are not a well-formed JSON Patch; ``.op`` (None: not an array)."""


class EditTypeError(_EditOpError):
    """``TYPE``: an EDIT ``incr`` on a non-integer, a non-integer value, or an overflow."""


class BusyKeyError(SwarmError):
    """``BUSYKEY``: RESTORE onto an existing key without REPLACE."""


class OutOfMemoryError(SwarmError):
    """``OOM``: refused at ``maxmemory``."""


class ModuleMissingError(CommandError):
    """The server answered ``unknown command 'SWARM....'``: the swarm module is not loaded
    there. ``.command`` is the command, ``.server`` the ``host:port`` when known."""

    def __init__(self, code: str, detail: str, command: str = "", server: Optional[str] = None) -> None:
        where = f" on {server}" if server else ""
        super().__init__(code, f"the swarm module is not loaded{where}: the server does not know "
                               f"{command or 'the SWARM commands'} (load it with --loadmodule "
                               f"or MODULE LOAD /path/to/swarm.so); server said: {detail}")
        self.command = command
        self.server = server


class RequestTimeoutError(TimeoutError):
    """request() got no reply within its timeout. ``.id`` is the request's message id,
    ``.key`` its routing table, ``.type`` its event type, ``.timeout_ms`` the timeout."""

    def __init__(self, key: str, type: str, msg_id: str, timeout_ms: int) -> None:
        super().__init__(f"no reply to {type} {msg_id} on {key} within {timeout_ms} ms")
        self.key = key
        self.type = type
        self.id = msg_id
        self.timeout_ms = timeout_ms


ERROR_CLASSES: Dict[str, Type[SwarmError]] = {
    "ERR": CommandError,
    "WRONGTYPE": WrongTypeError,
    "EVENTTYPE": EventTypeError,
    "DENIED": DeniedError,
    "PAYLOAD": PayloadError,
    "NOSWARM": NoSwarmError,
    "CONFLICT": ConflictError,
    "NOVERSION": NoVersionError,
    "CROSSSLOT": CrossSlotError,
    "TESTFAILED": TestFailedError,
    "NOPATH": NoPathError,
    "BADOP": BadOpError,
    "TYPE": EditTypeError,
    "BUSYKEY": BusyKeyError,
    "OOM": OutOfMemoryError,
}

# Upper-case words that start the module's ERR messages (argument names), not code words.
ERR_LEADING_WORDS = {
    "PRIORITY", "SENDER", "KEEP", "IFVERSION", "VERSION", "PATH", "WITHVERSION", "REGEX",
    "NONE", "JSON", "COUNT", "BLOCK", "MAXLEN", "MSGID", "REPLYTO",
}

_CODE = re.compile(r"^([A-Z][A-Z0-9_-]*)(?: (.*))?$", re.S)


def register_error_code(code: str, cls: Type[SwarmError]) -> None:
    """Maps a code word to a SwarmError subclass."""
    ERROR_CLASSES[code] = cls


def error_from_reply(text: str, err_stripped: bool = False) -> SwarmError:
    """The error for one reply text. ``err_stripped``: redis-py may have cut ``ERR ``."""
    m = _CODE.match(text)
    if m:
        code, detail = m.group(1), m.group(2) or ""
        cls = ERROR_CLASSES.get(code)
        if cls is not None:
            return cls(code, detail)
        if not (err_stripped and code in ERR_LEADING_WORDS):
            return SwarmError(code, detail)
    return CommandError("ERR", text)


_PIPELINE = re.compile(r"^Command # \d+ \(.*?\) of pipeline caused error: ", re.S)
_UNKNOWN = re.compile(r"^(?:ERR )?unknown command [`']?(swarm\.[a-z]+)", re.I)


def convert_error(err: BaseException, server: Optional[str] = None) -> BaseException:
    """A SwarmError for a plain redis-py ResponseError; anything else unchanged.

    redis-py's own subclasses (NoPermissionError, ReadOnlyError, ...) are left alone. An
    ``unknown command 'SWARM....'`` becomes a ModuleMissingError (``server``: where). The
    ``Command # n (...) of pipeline caused error:`` that a pipeline's execute() puts in front
    is dropped.
    """
    if type(err) is not ResponseError:
        return err
    text = _PIPELINE.sub("", str(err), count=1)
    m = _UNKNOWN.match(text)
    new: SwarmError
    if m:
        new = ModuleMissingError("ERR", text, m.group(1).upper(), server)
    else:
        new = error_from_reply(text, err_stripped=True)
    new.__cause__ = err
    return new
