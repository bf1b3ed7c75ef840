"""The SMTP connection through Airflow's SMTP provider, and one session that sends many alerts.

The connection is `smtp_default` (or another id, or a URI / JSON given directly), read by
apache-airflow-providers-smtp's `SmtpHook` wherever Airflow keeps connections
(`AIRFLOW_CONN_SMTP_DEFAULT`, the metadata database, a secrets backend), with the hook's extras
and defaults: `from_email`, `disable_ssl`, `disable_tls`, `timeout` (30 s), `retry_limit` (5),
`ssl_context`.

Sending does not go through `SmtpHook.send_email_smtp`, which cannot keep the delivery rules:
it retries any exception on the same smtplib client, and smtplib closes that client when the
connection is lost, so every retry fails at once with "please run connect() first": a connection
lost before the message is never retried on a new one, and the error raised no longer says
whether the server had taken the message (then possibly delivered: recorded `uncertain`, not
re-sent). It also builds its own html-only message (no text part, no stable Message-ID).
`SmtpSender` below sends with the hook's settings and keeps those rules.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer
    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk import Connection

DEFAULT_CONN_ID = "smtp_default"

_FALSE_WORDS = frozenset({"false", "f", "no", "n", "off", "0"})


class SmtpConfigError(ValueError):
    """The SMTP connection is missing or cannot be used."""


class SmtpNotConfigured(SmtpConfigError):
    """No SMTP connection is set at all."""


class SmtpUnavailable(RuntimeError):
    """The SMTP server cannot be reached (or refuses the session): nothing more can be sent."""


class DeliveryUncertain(RuntimeError):
    """The server took the whole message, then the connection was lost before its reply: the
    message may have been delivered. Sending it again could deliver it twice."""


@dataclass(frozen=True)
class SmtpConfig:
    """What SmtpHook reads from the connection to connect and send."""

    conn_type: str
    host: str
    port: int | None
    login: str
    password: str
    from_email: str | None
    use_ssl: bool
    starttls: bool
    timeout: int
    retry_limit: int
    ssl_context: str | None = None

    def describe(self) -> str:
        """Where mail goes, without the password."""
        user = f"{self.login}@" if self.login else ""
        port = f":{self.port}" if self.port else ""
        security = "SSL" if self.use_ssl else ("STARTTLS" if self.starttls else "plain")
        return f"{self.conn_type}://{user}{self.host}{port} ({security})"


def smtp_config(conn: str | None = None) -> SmtpConfig:
    """The SMTP connection to use, as SmtpHook reads it.

    `conn` is a connection in Airflow's URI or JSON form, or a connection id; None means
    `smtp_default` (`AIRFLOW_CONN_SMTP_DEFAULT`)."""
    SmtpHook, Connection, AirflowNotFoundException = airflow_smtp()
    text = (conn or "").strip()
    direct = "://" in text or text.startswith("{")
    conn_id = DEFAULT_CONN_ID if direct else text or DEFAULT_CONN_ID
    where = "the SMTP connection" if direct else f"AIRFLOW_CONN_{conn_id.upper()}"
    try:
        if text.startswith("{"):
            connection = Connection.from_json(text, conn_id=conn_id)
        elif direct:
            connection = Connection.from_uri(text, conn_id=conn_id)
        else:
            connection = SmtpHook.get_connection(conn_id)
        hook = SmtpHook(conn_id)
        hook.smtp_connection = connection
        return _config(hook)
    except AirflowNotFoundException:
        raise SmtpNotConfigured(
            f"no SMTP connection: set {where}, e.g. "
            f"smtp://127.0.0.1:1025?from_email=noreply%40example.gov.vn"
            f"&disable_ssl=true&disable_tls=true"
        ) from None
    except Exception as exc:  # Airflow's parsing errors have no common class
        raise SmtpConfigError(f"{where}: {exc}") from exc


def airflow_smtp() -> tuple[type[SmtpHook], type[Connection], type[Exception]]:
    """The provider's hook, Airflow's Connection and its not-found error. Airflow's first import
    in a process gives the root logger a stdout handler at INFO: the `cycle` command would then
    print every log line beside its own output, so the root logger is left as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    root.handlers[:] = handlers
    root.setLevel(level)
    return SmtpHook, Connection, AirflowNotFoundException


def _config(hook: SmtpHook) -> SmtpConfig:
    """The hook's reading of its connection, refusing what it would misread or we cannot do."""
    for name in ("disable_ssl", "disable_tls"):
        _check_flag(name, hook.conn.extra_dejson.get(name))
    if hook.auth_type != "basic":
        raise ValueError(f"auth_type={hook.auth_type!r} is not supported here; use a password")
    if hook.ssl_context not in (None, "default", "none"):
        raise ValueError(f"ssl_context must be 'default' or 'none', not {hook.ssl_context!r}")
    if not hook.host:
        raise ValueError("the SMTP connection has no host")
    try:
        timeout, retry_limit = hook.timeout, hook.smtp_retry_limit
    except ValueError as exc:
        raise ValueError(f"timeout and retry_limit must be whole numbers ({exc})") from exc
    return SmtpConfig(
        conn_type=hook.conn.conn_type or "smtp",
        host=hook.host,
        port=hook.conn.port,
        login=hook.smtp_user,
        password=hook.smtp_password,
        from_email=hook.from_email or None,
        use_ssl=hook.use_ssl,
        starttls=hook.smtp_starttls,
        timeout=timeout,
        retry_limit=retry_limit,
        ssl_context=hook.ssl_context,
    )


def _check_flag(name: str, value: Any) -> None:
    """SmtpHook reads `bool(extra[name])`; in a URI every value is text, so `disable_ssl=false`
    would mean true there: refuse it rather than do the opposite of what it says."""
    if isinstance(value, str) and value.strip().lower() in _FALSE_WORDS:
        raise ValueError(
            f"{name}={value!r}: Airflow's SmtpHook reads any non-empty text as true, so this "
            f"would mean {name}=true there; leave {name} out (or use the JSON form with false)"
        )


# -- sending ----------------------------------------------------------------------------------


class _Client(smtplib.SMTP):
    """smtplib's client, noting when the whole message (its final '.' line) has gone out: after
    that, a lost reply leaves the outcome unknown, and only before it is a retry safe."""

    message_sent = False

    def send(self, s: ReadableBuffer | str) -> None:
        super().send(s)
        # smtplib sends the message and its terminator in one call; commands are single lines
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_sent = True


class _SslClient(_Client, smtplib.SMTP_SSL):
    pass


class SmtpSender:
    """One SMTP session for many messages, connected and authenticated as SmtpHook.get_conn does.

    `send` raises SmtpUnavailable when the server cannot be reached any more, and the
    smtplib error otherwise (a refused message: the next one may still go).
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: _Client | None = None

    def __enter__(self) -> SmtpSender:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ssl_context(self) -> ssl.SSLContext | None:
        return None if self.config.ssl_context == "none" else ssl.create_default_context()

    def connect(self) -> None:
        config = self.config
        port = config.port or 0
        try:
            for attempt in range(config.retry_limit + 1):
                try:
                    if config.use_ssl:
                        client: _Client = _SslClient(
                            config.host, port, timeout=config.timeout, context=self._ssl_context()
                        )
                    else:
                        client = _Client(config.host, port, timeout=config.timeout)
                    break
                except smtplib.SMTPServerDisconnected:
                    if attempt == config.retry_limit:
                        raise
            try:
                if config.starttls:
                    client.starttls(context=self._ssl_context())
                    client.ehlo()
                if config.login and config.password:
                    client.login(config.login, config.password)
            except BaseException:
                client.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpUnavailable(f"{config.describe()}: {_describe_error(exc)}") from exc
        self._client = client

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        """Send one message; return the recipients the server refused (others got it).

        A refusal (4xx) or a lost connection before the whole message went out is retried up
        to `retry_limit` times; a lost connection after it raises DeliveryUncertain at once."""
        for attempt in range(self.config.retry_limit + 1):
            if self._client is None:
                self.connect()
            client = self._client
            assert client is not None
            client.message_sent = False
            try:
                refused = client.send_message(message, to_addrs=list(recipients))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError):
                raise
            except smtplib.SMTPResponseException as exc:
                # a reply, so a definite refusal; smtplib has reset the transaction and only a
                # 4xx is worth retrying
                if not 400 <= exc.smtp_code < 500 or attempt == self.config.retry_limit:
                    raise
            except OSError as exc:  # lost connection (SMTPServerDisconnected is an OSError)
                self._drop()
                if client.message_sent:
                    raise DeliveryUncertain(
                        f"{self.config.describe()}: {_describe_error(exc)}"
                    ) from exc
                if attempt == self.config.retry_limit:
                    raise SmtpUnavailable(
                        f"{self.config.describe()}: {_describe_error(exc)}"
                    ) from exc
            else:
                return {addr: _decode(reply[1]) for addr, reply in refused.items()}
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        if self._client is None:
            return
        try:
            self._client.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            self._drop()


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running?)"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
