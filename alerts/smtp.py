"""The SMTP connection, read the way Airflow reads `smtp_default`, without importing Airflow.

One connection string serves the DAG and the command line: `AIRFLOW_CONN_SMTP_DEFAULT` in
Airflow's URI form (`smtp://user:pass@host:1025?from_email=...&disable_ssl=true`) or JSON form
(`{"conn_type": "smtp", "host": ..., "extra": {...}}`). Parsing follows Airflow's
`Connection.from_uri`/`from_json`, and the extras are the ones apache-airflow-providers-smtp's
`SmtpHook` reads, with its defaults: `from_email`, `disable_ssl` (SSL is ON unless disabled),
`disable_tls` (STARTTLS is ON unless disabled), `timeout` (30 s), `retry_limit` (5),
`ssl_context` (`default` | `none`). Importing Airflow costs seconds, hence the re-implementation;
`tests/alerts/test_alert_smtp_config.py` checks it agrees with Airflow's own parsing.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

DEFAULT_CONN_ID = "smtp_default"
CONN_ENV_PREFIX = "AIRFLOW_CONN_"
DEFAULT_TIMEOUT = 30
DEFAULT_RETRY_LIMIT = 5

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
    """What SmtpHook would use to connect and send."""

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


def parse_smtp_connection(value: str) -> SmtpConfig:
    """Read a connection in Airflow's URI or JSON form (as Airflow's secrets backends decide:
    JSON when it starts with `{`)."""
    text = value.strip()
    if not text:
        raise SmtpConfigError("the SMTP connection is empty")
    fields = _from_json(text) if text.startswith("{") else _from_uri(text)
    return _config(fields)


def smtp_config(conn: str | None = None, environ: Mapping[str, str] | None = None) -> SmtpConfig:
    """The SMTP connection to use.

    `conn` is a connection in URI or JSON form, or a connection id whose `AIRFLOW_CONN_<ID>`
    variable holds it; None means `AIRFLOW_CONN_SMTP_DEFAULT`.
    """
    env = os.environ if environ is None else environ
    if conn is not None and ("://" in conn or conn.strip().startswith("{")):
        return parse_smtp_connection(conn)
    conn_id = (conn or DEFAULT_CONN_ID).strip()
    variable = CONN_ENV_PREFIX + conn_id.upper()
    value = env.get(variable)
    if not value:
        raise SmtpNotConfigured(
            f"no SMTP connection: set {variable}, e.g. "
            f"smtp://127.0.0.1:1025?from_email=noreply%40example.gov.vn"
            f"&disable_ssl=true&disable_tls=true"
        )
    try:
        return parse_smtp_connection(value)
    except SmtpConfigError as exc:
        raise SmtpConfigError(f"{variable}: {exc}") from exc


# -- parsing, after airflow.sdk.definitions.connection.Connection ----------------------------


def _from_uri(uri: str) -> dict[str, Any]:
    if uri.count("://") != 1:
        raise SmtpConfigError(
            "expected one 'scheme://' in the connection URI (e.g. smtp://host:587?...)"
        )
    conn_type = urlsplit(uri).scheme
    parts = urlsplit(uri.replace(f"{conn_type}://", "//"))
    hostname = unquote(parts.hostname or "")
    if "/" in hostname:  # Airflow's _parse_netloc_to_hostname
        hostname = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        hostname = unquote(hostname)
    try:
        port = parts.port
    except ValueError as exc:
        raise SmtpConfigError(f"invalid port in the connection URI: {exc}") from exc
    extra: Any = {}
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = _json_extra(query["__extra__"]) if "__extra__" in query else query
    return {
        "conn_type": _normalise_conn_type(conn_type),
        "host": hostname,
        "port": port,
        "login": unquote(parts.username) if parts.username else parts.username,
        "password": unquote(parts.password) if parts.password else parts.password,
        "extra": extra,
    }


def _from_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SmtpConfigError(f"the connection is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SmtpConfigError("the JSON connection must be an object")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = _json_extra(extra)
    port = data.get("port")
    if port:
        try:
            port = int(port)
        except (TypeError, ValueError) as exc:
            raise SmtpConfigError(f"expected an integer port, got {port!r}") from exc
    else:
        port = None
    return {
        "conn_type": _normalise_conn_type(str(data.get("conn_type") or "")),
        "host": data.get("host"),
        "port": port,
        "login": data.get("login"),
        "password": data.get("password"),
        "extra": extra,
    }


def _json_extra(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SmtpConfigError(f"the connection's extra is not valid JSON: {exc}") from exc


def _normalise_conn_type(conn_type: str) -> str:
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


def _config(fields: dict[str, Any]) -> SmtpConfig:
    extra = fields["extra"]
    if not isinstance(extra, dict):
        raise SmtpConfigError("the connection's extra must be a JSON object")
    if extra.get("auth_type", "basic") != "basic":
        raise SmtpConfigError(
            f"auth_type={extra['auth_type']!r} is not supported here; use login and password"
        )
    ssl_context = extra.get("ssl_context")
    if ssl_context not in (None, "default", "none"):
        raise SmtpConfigError(f"ssl_context must be 'default' or 'none', not {ssl_context!r}")
    host = fields["host"] or ""
    if not host:
        raise SmtpConfigError("the SMTP connection has no host")
    return SmtpConfig(
        conn_type=fields["conn_type"] or "smtp",
        host=host,
        port=fields["port"],
        login=fields["login"] or "",
        password=fields["password"] or "",
        from_email=extra.get("from_email") or None,
        use_ssl=not _flag(extra, "disable_ssl"),
        starttls=not _flag(extra, "disable_tls"),
        timeout=_integer(extra, "timeout", DEFAULT_TIMEOUT),
        retry_limit=_integer(extra, "retry_limit", DEFAULT_RETRY_LIMIT),
        ssl_context=ssl_context,
    )


def _flag(extra: Mapping[str, Any], name: str) -> bool:
    """SmtpHook's `bool(extra.get(name, False))`. In a URI every value is text, so Airflow reads
    `disable_ssl=false` as TRUE; refuse such values rather than disagree with it silently."""
    value = extra.get(name, False)
    if isinstance(value, str) and value.strip().lower() in _FALSE_WORDS:
        raise SmtpConfigError(
            f"{name}={value!r}: Airflow's SmtpHook reads any non-empty text as true, so this "
            f"would mean {name}=true there; leave {name} out (or use the JSON form with false)"
        )
    return bool(value)


def _integer(extra: Mapping[str, Any], name: str, default: int) -> int:
    value = extra.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SmtpConfigError(f"{name} must be a whole number, not {value!r}") from exc


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
