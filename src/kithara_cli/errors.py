"""Typed errors: every failure is either retryable or fatal, and carries its own exit code.

Callers decide by type, never by matching message text. The CLI prints ``str(error)`` as the
one line on stderr and exits with ``error.exit_code``.

Exit codes, the same for ``fetch`` and ``play`` (this table is the source of truth; the README
and both commands' ``--help`` repeat it, and tests/test_exit_codes.py holds every type to it):

    0    done
    1    any other error (a bug: please report it)
    2    bad usage, option or URL
    3    network: connection, DNS, timeout, cut-short body, 5xx/429 (and a full station:
         SHOUTcast's ICY 401, icecast-kh's 403 max listeners reached) after the retries;
         with --offline, bytes not in the cache
    4    HTTP status: 404, 403, 410... and too many redirects
    5    bad content: playlist, codec, key, decryption, or a response over a size limit
    6    local output: --out exists or is unwritable, disk full, --out being written by another
         kithara, the audio output or --events file failing to write
    130  interrupted (Ctrl-C, SIGINT); a fetch keeps its partial data for resuming
    143  terminated (SIGTERM); as 130
"""

from __future__ import annotations


class KitharaError(Exception):
    """Base of every error kithara reports to a user."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RetryableError(KitharaError):
    """A failure that may pass if the same request is tried again (network, 5xx, 429)."""

    retryable = True


class FatalError(KitharaError):
    """A failure that retrying will not mend (bad input, 404, bad key, disk full)."""

    retryable = False


# --- network ---------------------------------------------------------------------------------


class NetworkError(RetryableError):
    """Connection refused/reset, timeout, body cut short."""

    exit_code = 3


class BodyStalledError(NetworkError):
    """No body bytes arrived within the inactivity timeout."""


class TruncatedBodyError(NetworkError):
    """The server closed before Content-Length bytes arrived."""


class MalformedResponseError(NetworkError):
    """The server's response head is not HTTP/1.1 (a bad status line, an illegal header
    line): tried once more, on a new connection (a reused one may still hold the excess of
    a body longer than its Content-Length), then given up."""


class ServerBusyError(RetryableError):
    """HTTP 429 or 5xx (or a full station: SHOUTcast's ICY 401, icecast-kh's 403 max
    listeners reached); ``retry_after`` is the server's hint
    in seconds, if any."""

    exit_code = 3

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class HttpStatusError(FatalError):
    """A status that retrying will not change (404, 403, 410, 416...)."""

    exit_code = 4

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ResolveError(FatalError):
    """DNS failure or unreachable host: fatal for a CLI user, who typed the name."""

    exit_code = 3


class CertificateError(FatalError):
    """The server's TLS certificate is not trusted: retrying will not change it."""

    exit_code = 3


class InvalidUrlError(FatalError):
    exit_code = 2


class TooManyRedirectsError(HttpStatusError):
    """A redirect chain longer than the limit (or a loop)."""


class RemoteChangedError(RetryableError):
    """The remote file changed (validators differ) while resuming: start over."""

    exit_code = 3  # a server that will not hold one version still: a network failure


class OfflineMissError(FatalError):
    """--offline, and the bytes asked for are not in the cache: the network would be needed."""

    exit_code = 3


# --- input and content -----------------------------------------------------------------------


class UsageError(FatalError):
    exit_code = 2


class PlaylistError(FatalError):
    """Malformed, hostile or unsupported playlist."""

    exit_code = 5


class UnsupportedError(FatalError):
    """Encryption method, codec or container kithara does not handle."""

    exit_code = 5


class DecryptionError(FatalError):
    """Wrong key or corrupt encrypted segment."""

    exit_code = 5


class DecoderError(FatalError):
    exit_code = 5


class TooLargeError(FatalError):
    """A response (playlist, key, init section, segment) over its size limit: hostile content."""

    exit_code = 5


# --- output ----------------------------------------------------------------------------------


class OutputError(FatalError):
    """--out exists (without --force), is unwritable, or the disk is full."""

    exit_code = 6


class OutputBusyError(OutputError):
    """Another kithara process holds the lock on this --out; nothing of its files was touched."""


class Cancelled(KitharaError):
    """The user interrupted (Ctrl-C); partial data is kept for resuming."""

    exit_code = 130

    @classmethod
    def part_kept(cls, part: object) -> Cancelled:
        """A fetch's Ctrl-C that kept ``part``: how to go on (curl and wget resume only when
        asked, -C - / -c; kithara does by itself, and a new user would not guess it)."""
        return cls(
            f"interrupted: partial download kept in {part}; run the same command again to resume"
        )


class Terminated(Cancelled):
    """SIGTERM (kill): handled as Ctrl-C, with the conventional 128 + 15 exit code."""

    exit_code = 143
