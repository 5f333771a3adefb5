#!/usr/bin/env python3
"""Fault-injection HTTP/1.1 proxy for omnio's integration tests (Python 3 standard library only).

It sits on 127.0.0.1 between an HTTP client (omnio's libcurl S3 client, curl, awscli) and a real
server (Ceph radosgw, moto_server, ...) and relays requests byte for byte -- no header is rewritten,
so SigV4 signatures (which cover Host) stay valid: point the client at the proxy's port, the
upstream is fixed on the command line. Rules installed over a small JSON control API make chosen
requests fail in chosen ways.

Usage
-----
    python3 tests/support/fault_proxy.py --upstream http://127.0.0.1:7480 \
        [--listen-port 0] [--control-port 0] [--host 127.0.0.1] [--upstream-timeout 300] [-v]

When ready it prints exactly one line to stdout and flushes it:

    FAULT_PROXY_PORT=<p> FAULT_PROXY_CONTROL_PORT=<c>

and then runs until SIGTERM or SIGINT (exit status 0). Port 0 means "any free port". Nothing else
goes to stdout; -v logs every request and fault to stderr (quiet otherwise, apart from internal
errors), so a harness that never reads stderr cannot block the proxy.

Data path: one thread per client connection, HTTP/1.1 keep-alive on both sides. Each client
connection gets its own upstream connection (opened lazily, reopened when the upstream closed it;
a request that found a reused upstream connection dead before any response byte arrived is
replayed once on a fresh one if its body was at most 1 MiB). Request bodies: Content-Length or
Transfer-Encoding: chunked. Response bodies: Content-Length, chunked, or close-delimited; HEAD,
1xx, 204 and 304 have none. "Connection: close" (or HTTP/1.0 without keep-alive) from either side
closes both connections after the response. "Expect: 100-continue" is answered by the proxy itself
(the upstream's own 100 Continue is swallowed), so the body is always read before a final answer.

Control API (plain HTTP on the control port, JSON bodies and answers)
---------------------------------------------------------------------
    POST /rules   body: a JSON list of rules (a single object is taken as a list of one); it
                  REPLACES the current rules. 400 with {"error": ...} if a rule is invalid.
    GET  /rules   the current rules, each with "remaining" (times left) and "hits".
    POST /reset   clears the rules and the counters (the open_* gauges are live, not reset).
    GET  /stats   {"requests": N,          requests read from clients (faulted or not)
                   "forwarded": N,         requests sent upstream
                   "faults": N,            requests a rule fired on
                   "by_action": {"slowdown": N, ...},
                   "connections": N,       client connections accepted
                   "open_client_connections": N, "open_upstream_connections": N}

    e.g. curl -s -X POST --data '[{"method":"GET","action":"slowdown","times":2}]' \
              http://127.0.0.1:$FAULT_PROXY_CONTROL_PORT/rules

Rules
-----
    {"method": "GET"|"PUT"|...|null,     exact method (case-insensitive); null = any
     "path_regex": "..."|null,           re.search on the raw path (before '?', not decoded)
     "query_regex": "..."|null,          re.search on the raw query string (without '?'; "" if none)
     "header": ["range", "regex"]|null,  re.search on that request header's value; absent = no match
     "action": A,                        see below (required)
     "times": N,                         fire on N matching requests, then the rule is spent;
                                         -1 = forever (default 1)
     "after_bytes": K,                   response body bytes relayed before the fault (default 0);
                                         -1 = before the response status line is relayed
     "stall_seconds": S,                 stall / delay duration (default 3600 for stall, 1 for delay)
     "status": code,                     error: HTTP status (default 500); slowdown: default 503
     "code": "...", "message": "...",    error / slowdown: S3 error Code and Message override
     "retry_after": seconds,             error / slowdown: add a Retry-After header
     "name": "...", "comment": "..."}    free text, ignored

Rules are checked in order and the first live one that matches fires (its "times" is decremented
atomically). Actions:

    slowdown       not forwarded: 503 with the S3 XML error <Code>SlowDown</Code>,
                   Content-Type application/xml, Content-Length; Retry-After if "retry_after".
    error          not forwarded: "status" (default 500) with Code InternalError (500),
                   ServiceUnavailable (503), SlowDown, ... or the rule's "code".
    drop_mid_body  forwarded; the response headers and the first after_bytes body bytes are relayed
                   (the proxy waits until the client has acknowledged them), then the client
                   connection is aborted with a TCP RST (SO_LINGER 0).
    truncate       forwarded; headers (with the ORIGINAL Content-Length / framing) and after_bytes
                   body bytes are relayed, then the client connection is closed cleanly (FIN).
    stall          forwarded; headers and after_bytes body bytes are relayed, then the proxy sleeps
                   stall_seconds (waking early and closing if the client disconnects or the proxy
                   shuts down), then relays the rest normally.
    reset          the request is read (its body too, unless it asked for 100-continue, which is
                   then never granted), then the client connection is aborted with an RST and no
                   answer.
    delay          sleeps stall_seconds before forwarding (latency injection), then relays normally.
    corrupt_request  forwarded with one bit of the request BODY flipped, at body offset after_bytes
                   (default 0; past the end: the last byte), as a bad NIC or memory would: the
                   server must notice (SigV4 signed payload, Content-MD5) and the client retry.

Synthesized answers carry "X-Fault-Proxy: <action>" and x-amz-request-id "fault-proxy"; a HEAD
request gets the headers only. The body of a faulted request is always read in full before the
answer (except for reset), so keep-alive stays in sync. after_bytes counts body bytes as they are
on the wire (for a chunked response that includes the chunk framing). If the body is shorter than
after_bytes the fault fires at its end (so truncate then merely closes the connection after a
complete response). When the upstream fails mid-response the client connection is aborted with an
RST, so a short body never looks like a complete one; when it fails before any response byte the
client gets a 502 (X-Fault-Proxy: upstream-error).
"""

import argparse
import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import termios
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

CHUNK = 1 << 20             # relay unit
MAX_HEAD = 1 << 20          # largest request/response head accepted
REPLAY_LIMIT = 1 << 20      # largest request (head + body) kept for a replay on a fresh upstream
CONNECT_TIMEOUT = 10.0
TIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)

STOP = threading.Event()
VERBOSE = False
UPSTREAM = ("127.0.0.1", 80)
UPSTREAM_TIMEOUT = 300.0

ACTIONS = ("slowdown", "error", "drop_mid_body", "truncate", "stall", "reset", "delay",
           "corrupt_request")
RESPONSE_FAULTS = ("drop_mid_body", "truncate", "stall")
RULE_KEYS = {"method", "path_regex", "query_regex", "header", "action", "times", "after_bytes",
             "stall_seconds", "status", "code", "message", "retry_after", "name", "comment"}
CODE_FOR_STATUS = {400: "BadRequest", 403: "AccessDenied", 404: "NoSuchKey", 409: "Conflict",
                   412: "PreconditionFailed", 416: "InvalidRange", 500: "InternalError",
                   501: "NotImplemented", 502: "BadGateway", 503: "ServiceUnavailable",
                   504: "GatewayTimeout"}
MESSAGE_FOR_CODE = {"SlowDown": "Please reduce your request rate.",
                    "ServiceUnavailable": "Please reduce your request rate.",
                    "InternalError": "We encountered an internal error. Please try again."}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def log(msg, force=False):
    if VERBOSE or force:
        try:
            sys.stderr.write("fault_proxy: %s\n" % msg)
            sys.stderr.flush()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# Rules and counters


class Rule:
    def __init__(self, spec, index):
        if not isinstance(spec, dict):
            raise ValueError("rule %d: not a JSON object" % index)
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise ValueError("rule %d: unknown keys %s" % (index, sorted(unknown)))
        self.spec = dict(spec)
        self.action = spec.get("action")
        if self.action not in ACTIONS:
            raise ValueError("rule %d: action must be one of %s" % (index, ", ".join(ACTIONS)))
        method = spec.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("rule %d: method must be a string or null" % index)
        self.method = method.upper() if method else None
        self.path_re = self._regex(spec, "path_regex", index)
        self.query_re = self._regex(spec, "query_regex", index)
        header = spec.get("header")
        self.header = None
        if header is not None:
            if (not isinstance(header, (list, tuple)) or len(header) != 2
                    or not all(isinstance(x, str) for x in header)):
                raise ValueError("rule %d: header must be [name, regex]" % index)
            self.header = (header[0].strip().lower(), self._compile(header[1], index))
        self.times = self._int(spec, "times", 1, index, minimum=-1)
        self.after_bytes = self._int(spec, "after_bytes", 0, index, minimum=-1)
        default_stall = 3600.0 if self.action == "stall" else 1.0
        self.stall_seconds = self._number(spec, "stall_seconds", default_stall, index)
        default_status = 503 if self.action == "slowdown" else 500
        self.status = self._int(spec, "status", default_status, index, minimum=100)
        if self.status > 599:
            raise ValueError("rule %d: status out of range" % index)
        self.retry_after = spec.get("retry_after")
        if self.retry_after is not None:
            self._number(spec, "retry_after", 0, index)
        for key in ("code", "message"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                raise ValueError("rule %d: %s must be a string" % (index, key))
        self.remaining = self.times
        self.hits = 0

    @staticmethod
    def _compile(pattern, index):
        try:
            return re.compile(pattern)
        except re.error as e:
            raise ValueError("rule %d: bad regex %r: %s" % (index, pattern, e))

    def _regex(self, spec, key, index):
        value = spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("rule %d: %s must be a string or null" % (index, key))
        return self._compile(value, index)

    @staticmethod
    def _int(spec, key, default, index, minimum):
        value = spec.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError("rule %d: %s must be an integer >= %d" % (index, key, minimum))
        return value

    @staticmethod
    def _number(spec, key, default, index):
        value = spec.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError("rule %d: %s must be a number >= 0" % (index, key))
        return float(value)

    def matches(self, method, path, query, head):
        if self.method is not None and self.method != method.upper():
            return False
        if self.path_re is not None and not self.path_re.search(path):
            return False
        if self.query_re is not None and not self.query_re.search(query):
            return False
        if self.header is not None:
            values = head.get_all(self.header[0])
            if not values or not any(self.header[1].search(v) for v in values):
                return False
        return True

    def as_json(self):
        out = dict(self.spec)
        out["remaining"] = self.remaining
        out["hits"] = self.hits
        return out


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.open = {"client": 0, "upstream": 0}
        self._zero()

    def _zero(self):
        self.requests = 0
        self.forwarded = 0
        self.faults = 0
        self.connections = 0
        self.by_action = {}

    def set_rules(self, specs):
        if isinstance(specs, dict):
            specs = [specs]
        if not isinstance(specs, list):
            raise ValueError("expected a JSON list of rules")
        rules = [Rule(spec, i) for i, spec in enumerate(specs)]
        with self.lock:
            self.rules = rules
        return len(rules)

    def reset(self):
        with self.lock:
            self.rules = []
            self._zero()

    def pick(self, method, path, query, head):
        """Counts the request; returns the rule that fires on it, or None."""
        with self.lock:
            self.requests += 1
            for rule in self.rules:
                if rule.remaining == 0 or not rule.matches(method, path, query, head):
                    continue
                if rule.remaining > 0:
                    rule.remaining -= 1
                rule.hits += 1
                self.faults += 1
                self.by_action[rule.action] = self.by_action.get(rule.action, 0) + 1
                return rule
        return None

    def count_forwarded(self):
        with self.lock:
            self.forwarded += 1

    def opened(self, kind):
        with self.lock:
            self.open[kind] += 1
            if kind == "client":
                self.connections += 1

    def closed(self, kind):
        with self.lock:
            self.open[kind] -= 1

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "forwarded": self.forwarded, "faults": self.faults,
                    "by_action": dict(self.by_action), "connections": self.connections,
                    "open_client_connections": self.open["client"],
                    "open_upstream_connections": self.open["upstream"]}

    def rules_json(self):
        with self.lock:
            return [r.as_json() for r in self.rules]


STATE = State()


# ---------------------------------------------------------------------------------------------
# Sockets


class PeerGone(Exception):
    pass


class ClientGone(PeerGone):
    pass


class UpstreamGone(PeerGone):
    pass


class BadMessage(Exception):
    pass


def unsent_bytes(sock):
    """Bytes in the send queue not yet acknowledged by the peer (Linux SIOCOUTQ)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), TIOCOUTQ, struct.pack("i", 0)))[0]
    except OSError:
        return 0


class Conn:
    """A connected socket with a read buffer. Errors surface as the side's PeerGone subclass."""

    def __init__(self, sock, gone, kind):
        self.sock = sock
        self.gone = gone
        self.kind = kind
        self.buf = bytearray()              # bytes received but not consumed (heads, chunk lines)
        self.rbuf = bytearray(CHUNK)        # recv_into target for body data
        self.rview = memoryview(self.rbuf)
        self.rx = 0                         # total bytes received
        self.closed = False
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        STATE.opened(kind)

    def _recv_into(self, n):
        try:
            k = self.sock.recv_into(self.rbuf, n)
        except OSError as e:
            raise self.gone("%s recv: %s" % (self.kind, e))
        self.rx += k
        return k

    def read_some(self, n=CHUNK):
        """Up to n bytes (bytes or a memoryview valid until the next read); empty at EOF."""
        if self.buf:
            k = min(n, len(self.buf))
            out = bytes(self.buf[:k])
            del self.buf[:k]
            return out
        k = self._recv_into(min(n, CHUNK))
        return self.rview[:k]

    def readline(self, limit=MAX_HEAD):
        """One line including its LF; whatever is left (possibly b"") at EOF."""
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise BadMessage("%s: line too long" % self.kind)
            start = len(self.buf)
            k = self._recv_into(CHUNK)
            if k == 0:
                line = bytes(self.buf)
                self.buf.clear()
                return line
            self.buf += self.rview[:k]

    def sendall(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise self.gone("%s send: %s" % (self.kind, e))

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        STATE.closed(self.kind)

    def rst_close(self, wait=2.0):
        """Abort with a TCP RST once everything sent so far has been acknowledged."""
        if self.closed:
            return
        deadline = time.monotonic() + wait
        while unsent_bytes(self.sock) > 0 and time.monotonic() < deadline and not STOP.is_set():
            time.sleep(0.005)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def fin_close(self, drain=2.0):
        """Close cleanly: FIN, then read and discard until the peer closes too (or `drain` s), so
        that unread input does not turn the close into an RST."""
        if self.closed:
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + drain
            while not STOP.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([self.sock], [], [], min(left, 0.1))
                if r and not self.sock.recv(65536):
                    break
        except OSError:
            pass
        self.close()


def client_wait(sock, seconds):
    """Sleeps `seconds`; False early if the client disconnected or the proxy is stopping."""
    deadline = time.monotonic() + seconds
    while not STOP.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        try:
            r, _, _ = select.select([sock], [], [], min(left, 0.1))
            if r:
                if not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return False            # EOF
                time.sleep(min(left, 0.1))  # the client sent more (pipelining): keep waiting
        except BlockingIOError:
            continue
        except OSError:
            return False
    return False


# ---------------------------------------------------------------------------------------------
# HTTP messages


class Head:
    def __init__(self, raw, start, headers):
        self.raw = raw          # exact bytes as received, forwarded unchanged
        self.start = start      # request or status line (str)
        self.headers = headers  # [(lowercase name, value)]

    def get_all(self, name):
        return [v for n, v in self.headers if n == name]

    def tokens(self, name):
        out = []
        for v in self.get_all(name):
            out.extend(t.strip().lower() for t in v.split(",") if t.strip())
        return out


def read_head(conn, skip_blank):
    """The next message head on conn, or None at a clean EOF before its first byte."""
    first = conn.readline()
    while skip_blank and first in (b"\r\n", b"\n"):
        first = conn.readline()
    if not first:
        return None
    if not first.endswith(b"\n"):
        raise conn.gone("%s: EOF inside a message head" % conn.kind)
    raw = bytearray(first)
    headers = []
    while True:
        line = conn.readline()
        if not line.endswith(b"\n"):
            raise conn.gone("%s: EOF inside a message head" % conn.kind)
        raw += line
        if len(raw) > MAX_HEAD:
            raise BadMessage("%s: message head too large" % conn.kind)
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip().decode("latin-1"))
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise BadMessage("%s: malformed header line %r" % (conn.kind, line[:100]))
        headers.append((name.strip().lower().decode("latin-1"),
                        value.strip().decode("latin-1")))
    return Head(bytes(raw), first.decode("latin-1").rstrip("\r\n"), headers)


def content_length(head):
    values = set(v.strip() for v in head.get_all("content-length"))
    if not values:
        return None
    if len(values) != 1:
        raise BadMessage("conflicting Content-Length values")
    value = values.pop()
    if not value.isdigit():
        raise BadMessage("bad Content-Length %r" % value)
    return int(value)


def body_framing(head):
    """("chunked", None) | ("length", n) | (None, None) from the framing headers."""
    te = head.tokens("transfer-encoding")
    if te:
        if te[-1] != "chunked":
            raise BadMessage("unsupported Transfer-Encoding %r" % ",".join(te))
        return "chunked", None
    n = content_length(head)
    if n is not None:
        return "length", n
    return None, None


def wants_close(version, head):
    tokens = head.tokens("connection")
    if "close" in tokens:
        return True
    return version.upper() == "HTTP/1.0" and "keep-alive" not in tokens


def iter_body(conn, framing, length):
    """Raw body bytes as they are on the wire, in pieces of at most CHUNK bytes."""
    if framing == "length":
        remaining = length
        while remaining > 0:
            piece = conn.read_some(min(remaining, CHUNK))
            if not piece:
                raise conn.gone("%s: EOF with %d body bytes missing" % (conn.kind, remaining))
            remaining -= len(piece)
            yield piece
    elif framing == "chunked":
        while True:
            line = conn.readline(65536)
            if not line.endswith(b"\n"):
                raise conn.gone("%s: EOF inside a chunked body" % conn.kind)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise conn.gone("%s: bad chunk size line %r" % (conn.kind, line[:100]))
            yield line
            if size == 0:
                while True:  # trailers up to the empty line
                    line = conn.readline(65536)
                    if not line.endswith(b"\n"):
                        raise conn.gone("%s: EOF inside chunked trailers" % conn.kind)
                    yield line
                    if line in (b"\r\n", b"\n"):
                        return
            remaining = size + 2  # data and its CRLF
            while remaining > 0:
                piece = conn.read_some(min(remaining, CHUNK))
                if not piece:
                    raise conn.gone("%s: EOF inside a chunk" % conn.kind)
                remaining -= len(piece)
                yield piece
    elif framing == "close":
        while True:
            piece = conn.read_some(CHUNK)
            if not piece:
                return
            yield piece


def s3_error_response(status, code, message, head_only, close, action, retry_after=None):
    body = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>fault-proxy</RequestId></Error>'
            % (xml_escape(code), xml_escape(message))).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Injected"
    lines = ["HTTP/1.1 %d %s" % (status, reason),
             "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
             "Content-Type: application/xml",
             "Content-Length: %d" % len(body),
             "x-amz-request-id: fault-proxy",
             "X-Fault-Proxy: %s" % action]
    if retry_after is not None:
        ra = float(retry_after)
        lines.append("Retry-After: %s" % (int(ra) if ra == int(ra) else ra))
    if close:
        lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data if head_only else data + body


# ---------------------------------------------------------------------------------------------
# One client connection


class Request:
    def __init__(self, head):
        self.head = head
        parts = head.start.split(" ")
        if len(parts) != 3 or not parts[2].upper().startswith("HTTP/1."):
            raise BadMessage("bad request line %r" % head.start[:200])
        self.method, self.target, self.version = parts
        target = self.target
        if "://" in target.split("?", 1)[0]:  # absolute-form
            u = urlsplit(target)
            self.path, self.query = u.path or "/", u.query
        else:
            self.path, _, self.query = target.partition("?")
        self.framing, self.length = body_framing(head)
        if self.framing == "length" and self.length == 0:
            self.framing = None
        self.close = wants_close(self.version, head)
        self.expect_continue = (self.framing is not None
                                and "100-continue" in head.tokens("expect"))


class ClientHandler:
    def __init__(self, sock, addr):
        self.client = Conn(sock, ClientGone, "client")
        self.addr = addr
        self.up = None
        self.close_how = "fin"   # fin | rst | abort | done

    def run(self):
        try:
            while not STOP.is_set():
                head = read_head(self.client, skip_blank=True)
                if head is None:
                    break
                if not self.handle(head):
                    break
        except ClientGone as e:
            log("client %s: %s" % (self.addr, e))
            self.close_how = "abort"
        except BadMessage as e:
            log("client %s: %s" % (self.addr, e))
            try:
                self.client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                    b"Connection: close\r\nX-Fault-Proxy: bad-request\r\n\r\n")
            except PeerGone:
                pass
            self.close_how = "fin"
        except Exception:
            log("client %s: internal error\n%s" % (self.addr, traceback.format_exc()), force=True)
            self.close_how = "rst"
        finally:
            self.drop_upstream()
            if self.close_how == "fin":
                self.client.fin_close()
            elif self.close_how == "rst":
                self.client.rst_close()
            else:
                self.client.close()

    def drop_upstream(self):
        if self.up is not None:
            self.up.close()
            self.up = None

    def get_upstream(self):
        """(conn, reused); raises UpstreamGone when the upstream cannot be reached."""
        if self.up is not None:
            stale = bool(self.up.buf)
            if not stale:
                try:
                    stale = bool(select.select([self.up.sock], [], [], 0)[0])  # EOF or junk
                except (OSError, ValueError):
                    stale = True
            if not stale:
                return self.up, True
            self.drop_upstream()
        try:
            sock = socket.create_connection(UPSTREAM, timeout=CONNECT_TIMEOUT)
        except OSError as e:
            raise UpstreamGone("connect %s:%d: %s" % (UPSTREAM[0], UPSTREAM[1], e))
        sock.settimeout(UPSTREAM_TIMEOUT)
        self.up = Conn(sock, UpstreamGone, "upstream")
        return self.up, False

    def drain(self, req):
        for _ in iter_body(self.client, req.framing, req.length):
            pass

    def handle(self, head):
        """Serves one request; False when the client connection is finished."""
        req = Request(head)
        rule = STATE.pick(req.method, req.path, req.query, head)
        action = rule.action if rule else None
        log("%s %s%s" % (req.method, req.target, " -> %s" % action if action else ""))
        if action == "reset":
            if not req.expect_continue:
                self.drain(req)
            self.client.rst_close()
            self.close_how = "done"
            return False
        if action == "delay":
            if not client_wait(self.client.sock, rule.stall_seconds):
                self.close_how = "abort"
                return False
        if action in ("slowdown", "error"):
            if req.expect_continue:
                self.client.sendall(CONTINUE)
            self.drain(req)
            if action == "slowdown":
                code = rule.spec.get("code") or "SlowDown"
            else:
                code = rule.spec.get("code") or CODE_FOR_STATUS.get(rule.status, "InternalError")
            message = rule.spec.get("message") or MESSAGE_FOR_CODE.get(
                code, "Injected by fault_proxy.")
            self.client.sendall(s3_error_response(rule.status, code, message,
                                                  req.method.upper() == "HEAD", req.close,
                                                  action, rule.retry_after))
            return not req.close
        flip_at = None
        if action == "corrupt_request":
            flip_at = max(rule.after_bytes, 0)
        return self.forward(req, rule if action in RESPONSE_FAULTS else None, flip_at)

    def read_response_head(self, up, req):
        while True:
            try:
                head = read_head(up, skip_blank=False)
            except BadMessage as e:
                raise UpstreamGone(str(e))
            if head is None:
                raise UpstreamGone("upstream closed before answering")
            parts = head.start.split(" ", 2)
            if len(parts) < 2 or not parts[0].upper().startswith("HTTP/1.") \
                    or not parts[1].isdigit():
                raise UpstreamGone("bad status line %r" % head.start[:200])
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                continue  # interim answers: 100 Continue was already given by the proxy
            return head, parts[0], status

    def forward(self, req, rule, flip_at=None):
        STATE.count_forwarded()
        replay = bytearray(req.head.raw)
        up, reused, send_ok = None, False, True
        try:
            up, reused = self.get_upstream()
            up.sendall(req.head.raw)
        except UpstreamGone as e:
            log("upstream: %s" % e)
            send_ok = False
        mark = up.rx if up is not None else 0
        if req.expect_continue:
            self.client.sendall(CONTINUE)
        body_seen = 0
        for piece in iter_body(self.client, req.framing, req.length):
            if flip_at is not None:
                last = req.framing == "length" and body_seen + len(piece) >= req.length
                if body_seen <= flip_at < body_seen + len(piece) or (last and piece):
                    i = min(flip_at - body_seen, len(piece) - 1) if flip_at >= body_seen else 0
                    piece = bytearray(piece)
                    piece[i] ^= 0x01
                    piece = bytes(piece)
                    flip_at = None
            body_seen += len(piece)
            if replay is not None:
                if len(replay) + len(piece) <= REPLAY_LIMIT:
                    replay += piece
                else:
                    replay = None
            if send_ok:
                try:
                    up.sendall(piece)
                except UpstreamGone as e:  # keep reading the client's body; try for an answer
                    log("upstream: %s" % e)
                    send_ok = False
        resp = None
        if up is not None and not up.closed:
            try:
                resp = self.read_response_head(up, req)
            except UpstreamGone as e:
                log("upstream: %s" % e)
        if resp is None and reused and replay is not None and up.rx == mark:
            log("upstream: replaying on a fresh connection")
            self.drop_upstream()
            try:
                up, _ = self.get_upstream()
                up.sendall(replay)
                resp = self.read_response_head(up, req)
            except UpstreamGone as e:
                log("upstream: %s" % e)
        if resp is None:
            self.drop_upstream()
            self.client.sendall(s3_error_response(
                502, "BadGateway", "fault_proxy: the upstream did not answer.",
                req.method.upper() == "HEAD", req.close, "upstream-error"))
            return not req.close
        return self.relay(req, up, resp, rule)

    def fire(self, rule):
        """Applies a response fault; False when the client connection is finished."""
        if rule.action == "drop_mid_body":
            self.drop_upstream()
            self.client.rst_close()
            self.close_how = "done"
            return False
        if rule.action == "truncate":
            self.drop_upstream()
            self.client.fin_close()
            self.close_how = "done"
            return False
        # stall
        if client_wait(self.client.sock, rule.stall_seconds):
            return True
        self.close_how = "abort"
        return False

    def relay(self, req, up, resp, rule):
        head, version, status = resp
        if req.method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
            framing, length = None, None
        else:
            try:
                framing, length = body_framing(head)
            except BadMessage as e:  # nothing relayed yet: answer 502 and close
                log("upstream response: %s" % e)
                self.drop_upstream()
                self.client.sendall(s3_error_response(
                    502, "BadGateway", "fault_proxy: malformed upstream response.",
                    False, True, "upstream-error"))
                self.close_how = "fin"
                return False
            if framing is None:
                framing = "close"
        up_close = wants_close(version, head) or framing == "close"
        limit = rule.after_bytes if rule is not None else None
        if limit is not None and limit < 0:
            if not self.fire(rule):
                return False
            limit = None
        self.client.sendall(head.raw)
        sent = 0
        try:
            for piece in iter_body(up, framing, length):
                if limit is not None and sent + len(piece) >= limit:
                    k = limit - sent
                    if k:
                        self.client.sendall(piece[:k])
                    sent += k
                    limit = None
                    if not self.fire(rule):
                        return False
                    piece = piece[k:]
                    if not piece:
                        continue
                self.client.sendall(piece)
                sent += len(piece)
        except UpstreamGone as e:
            log("upstream failed mid-response (%s): aborting the client connection" % e)
            self.drop_upstream()
            self.client.rst_close()
            self.close_how = "done"
            return False
        if limit is not None and not self.fire(rule):  # body shorter than after_bytes
            return False
        if up_close:
            self.drop_upstream()
        if req.close or up_close:
            self.close_how = "fin"
            return False
        return True


def serve_client(sock, addr):
    try:
        ClientHandler(sock, addr).run()
    except Exception:
        log("client %s: %s" % (addr, traceback.format_exc()), force=True)


def accept_loop(listener):
    while not STOP.is_set():
        try:
            sock, addr = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            if STOP.is_set():
                return
            time.sleep(0.05)
            continue
        sock.settimeout(None)
        threading.Thread(target=serve_client, args=(sock, addr), daemon=True).start()


# ---------------------------------------------------------------------------------------------
# Control API


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_proxy"

    def log_message(self, fmt, *args):
        log("control: " + fmt % args)

    def _answer(self, code, obj):
        body = (json.dumps(obj, indent=None) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/stats":
            self._answer(200, STATE.stats())
        elif path == "/rules":
            self._answer(200, STATE.rules_json())
        else:
            self._answer(404, {"error": "unknown path %s" % path})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        body = self._body()
        if path == "/rules":
            try:
                n = STATE.set_rules(json.loads(body.decode("utf-8") or "[]"))
            except (ValueError, UnicodeDecodeError) as e:
                self._answer(400, {"error": str(e)})
                return
            self._answer(200, {"ok": True, "rules": n})
        elif path == "/reset":
            STATE.reset()
            self._answer(200, {"ok": True})
        else:
            self._answer(404, {"error": "unknown path %s" % path})


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---------------------------------------------------------------------------------------------


def main():
    global VERBOSE, UPSTREAM, UPSTREAM_TIMEOUT
    ap = argparse.ArgumentParser(description="Fault-injection HTTP/1.1 proxy (see the docstring).")
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT of the real server")
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1", help="address both ports bind to")
    ap.add_argument("--upstream-timeout", type=float, default=300.0,
                    help="seconds an upstream send/recv may block (default 300)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args()
    VERBOSE = args.verbose
    UPSTREAM_TIMEOUT = args.upstream_timeout
    u = urlsplit(args.upstream)
    if u.scheme != "http" or not u.hostname:
        ap.error("--upstream must be http://HOST[:PORT]")
    UPSTREAM = (u.hostname, u.port or 80)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.listen_port))
    listener.listen(256)
    listener.settimeout(0.5)
    control = ControlServer((args.host, args.control_port), ControlHandler)

    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    threading.Thread(target=accept_loop, args=(listener,), daemon=True).start()

    sys.stdout.write("FAULT_PROXY_PORT=%d FAULT_PROXY_CONTROL_PORT=%d\n"
                     % (listener.getsockname()[1], control.server_address[1]))
    sys.stdout.flush()
    while not STOP.wait(0.5):
        pass
    log("stopping")
    try:
        listener.close()
        control.socket.close()
    except OSError:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # daemon threads may be blocked in socket calls: do not wait for them


if __name__ == "__main__":
    main()
