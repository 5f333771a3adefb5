#!/usr/bin/env python3
"""A small in-memory fake of exactly the GCS JSON API endpoints the firebase Storage emulator lacks
(Python 3 standard library only), for omnio's gs:// tests:

  - multi-chunk resumable uploads (308 + Range, "bytes */*" status queries, session cancel -> 499),
    with a fault knob that persists only part of a chunk and then answers 503 (resume tests);
  - 416 for ranges past the end; generation / ifGenerationMatch preconditions (412, 404);
  - bucket create / get / delete / list (409 when not empty or taken);
  - objects.rewrite over several calls (rewriteToken) until done;
  - a wrong x-goog-hash on demand (CRC32C verification tests; CRC32C is sent for objects up to
    256 KiB only: pure Python computes it at ~1 MB/s);
  - optional bearer-token check (401).
Also serves media/multipart uploads, metadata, list (prefix, delimiter, pageToken, maxResults),
and delete, so the conformance suite runs against it too. Not a model of every GCS behaviour.

Usage: python3 tests/support/gcs_fake.py [--port 0]
Prints "GCS_FAKE_PORT=<p>" once ready; runs until SIGTERM/SIGINT.
Control: POST /_fake/config {"fail_chunks": N, "commit_fraction": 0.5, "bad_crc": bool,
  "rewrite_bytes_per_call": N, "require_token": "tok", "max_results_cap": N}; GET /_fake/stats.
"""
import argparse
import base64
import hashlib
import json
import re
import signal
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

QUANTUM = 256 * 1024


def crc32c(data, crc=0):
    table = crc32c.table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _table()


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}  # name -> {key: obj}
        self.sessions = {}  # id -> {bucket, name, meta, data(bytearray), done}
        self.config = {}
        self.stats = {}
        self.gen = int(time.time() * 1e6)

    def bump(self, k, n=1):
        self.stats[k] = self.stats.get(k, 0) + n

    def next_gen(self):
        self.gen += 1
        return str(self.gen)


S = State()


# Pure-Python CRC32C runs at ~1 MB/s: computed (lazily) only for objects up to this size.
CRC_MAX = 256 * 1024


def crc_of(o):
    if o["crc"] is None and len(o["data"]) <= CRC_MAX:
        o["crc"] = crc32c(o["data"])
    return o["crc"]


def obj_resource(bucket, name, o):
    r = {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(o["data"])),
            "generation": o["gen"], "etag": "E" + o["gen"], "updated": o["updated"],
            "contentType": o["ct"], "metadata": o["meta"], "storageClass": "STANDARD"}
    if crc_of(o) is not None:
        r["crc32c"] = base64.b64encode(struct.pack(">I", o["crc"])).decode()
    return r


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def store(bucket, name, data, meta=None, ct=None):
    data = bytes(data)
    o = {"data": data, "gen": S.next_gen(), "updated": now_rfc3339(), "meta": meta or {},
         "ct": ct or "application/octet-stream", "crc": None}
    S.buckets[bucket][name] = o
    return obj_resource(bucket, name, o)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=None, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def err(self, status, msg, reason="invalid"):
        self.reply(status, {"error": {"code": status, "message": msg, "errors": [{"reason": reason, "message": msg}]}})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        return u.path, q

    def auth_ok(self):
        tok = S.config.get("require_token")
        if tok and self.headers.get("Authorization") != "Bearer " + tok:
            self.err(401, "Invalid Credentials", "authError")
            return False
        return True

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, m):
        path, q = self.route()
        body = self.body() if m in ("POST", "PUT") else b""
        with S.lock:
            S.bump("requests")
            if path.startswith("/_fake/"):
                return self.control(m, path, body)
            if not self.auth_ok():
                return
            try:
                return self.dispatch(m, path, q, body)
            except KeyError as e:
                return self.err(404, "No such bucket: %s" % e, "notFound")

    def control(self, m, path, body):
        if path == "/_fake/config" and m == "POST":
            S.config.update(json.loads(body or b"{}"))
            return self.reply(200, S.config)
        if path == "/_fake/stats":
            return self.reply(200, S.stats)
        return self.err(404, "no such control path")

    def dispatch(self, m, path, q, body):
        mo = re.fullmatch(r"/storage/v1/b/([^/]+)/o/([^/]+)/rewriteTo/b/([^/]+)/o/([^/]+)", path)
        if mo and m == "POST":
            return self.rewrite(*[unquote(x) for x in mo.groups()], q)
        mo = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path)
        if mo:
            b, k = unquote(mo.group(1)), unquote(mo.group(2))
            if m == "GET":
                return self.get_object(b, k, q)
            if m == "DELETE":
                S.bump("deletes")
                if k not in S.buckets[b]:
                    return self.err(404, "No such object: %s/%s" % (b, k), "notFound")
                del S.buckets[b][k]
                return self.reply(204, b"", ctype=None)
        mo = re.fullmatch(r"/storage/v1/b/([^/]+)/o", path)
        if mo and m == "GET":
            return self.list_objects(unquote(mo.group(1)), q)
        mo = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", path)
        if mo:
            return self.upload(m, unquote(mo.group(1)), q, body)
        if path == "/storage/v1/b" and m == "POST":
            name = json.loads(body)["name"]
            if name in S.buckets:
                return self.err(409, "Your previous request to create the named bucket succeeded and you already own it.", "conflict")
            S.buckets[name] = {}
            return self.reply(200, {"kind": "storage#bucket", "name": name})
        if path == "/storage/v1/b" and m == "GET":
            names = sorted(S.buckets)
            start = int(q.get("pageToken") or 0)
            n = int(q.get("maxResults") or 1000)
            page = {"items": [{"name": x} for x in names[start:start + n]]}
            if start + n < len(names):
                page["nextPageToken"] = str(start + n)
            return self.reply(200, page)
        mo = re.fullmatch(r"/storage/v1/b/([^/]+)", path)
        if mo:
            b = unquote(mo.group(1))
            if b not in S.buckets:
                return self.err(404, "The specified bucket does not exist.", "notFound")
            if m == "GET":
                return self.reply(200, {"kind": "storage#bucket", "name": b})
            if m == "DELETE":
                if S.buckets[b]:
                    return self.err(409, "The bucket you tried to delete is not empty.", "conflict")
                del S.buckets[b]
                return self.reply(204, b"", ctype=None)
        return self.err(404, "no route %s %s" % (m, path), "notFound")

    def get_object(self, b, k, q):
        o = S.buckets[b].get(k)
        if "generation" in q and (o is None or o["gen"] != q["generation"]):
            return self.err(404, "No such object: %s/%s#%s" % (b, k, q["generation"]), "notFound")
        if o is None:
            return self.err(404, "No such object: %s/%s" % (b, k), "notFound")
        if "ifGenerationMatch" in q and o["gen"] != q["ifGenerationMatch"]:
            return self.err(412, "Precondition Failed", "conditionNotMet")
        if q.get("alt") != "media":
            S.bump("metadata_gets")
            return self.reply(200, obj_resource(b, k, o))
        S.bump("media_gets")
        data = o["data"]
        h = {"x-goog-generation": o["gen"], "ETag": "E" + o["gen"]}
        hashes = ["md5=" + base64.b64encode(hashlib.md5(data).digest()).decode()]
        if crc_of(o) is not None:
            crc = o["crc"] ^ (0xFFFF if S.config.get("bad_crc") else 0)
            hashes.insert(0, "crc32c=" + base64.b64encode(struct.pack(">I", crc)).decode())
        h["x-goog-hash"] = ",".join(hashes)
        rng = self.headers.get("Range")
        if rng:
            mo = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            first, last = int(mo.group(1)), int(mo.group(2)) if mo.group(2) else len(data) - 1
            if first >= len(data):
                if len(data) == 0 and first == 0:
                    return self.reply(200, b"", h, "application/octet-stream")
                h["Content-Range"] = "bytes */%d" % len(data)
                return self.err(416, "Requested range not satisfiable", "requestedRangeNotSatisfiable")
            last = min(last, len(data) - 1)
            h["Content-Range"] = "bytes %d-%d/%d" % (first, last, len(data))
            return self.reply(206, data[first:last + 1], h, "application/octet-stream")
        return self.reply(200, data, h, "application/octet-stream")

    def list_objects(self, b, q):
        S.bump("list_pages")
        keys = sorted(S.buckets[b])
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        n = min(int(q.get("maxResults") or 1000), int(S.config.get("max_results_cap", 1000)))
        start = q.get("pageToken", "")
        entries = []  # (sort key, kind, value)
        seen = set()
        for k in keys:
            if not k.startswith(prefix):
                continue
            rest = k[len(prefix):]
            if delim and delim in rest:
                p = prefix + rest[:rest.index(delim) + 1]
                if p not in seen:
                    seen.add(p)
                    entries.append((p, "p"))
            else:
                entries.append((k, "o"))
        entries = [e for e in entries if e[0] > start] if start else entries
        page, more = entries[:n], len(entries) > n
        out = {"kind": "storage#objects",
               "items": [obj_resource(b, k, S.buckets[b][k]) for k, t in page if t == "o"],
               "prefixes": [k for k, t in page if t == "p"]}
        if more:
            out["nextPageToken"] = page[-1][0]
        return self.reply(200, out)

    def upload(self, m, b, q, body):
        if b not in S.buckets:
            return self.err(404, "The specified bucket does not exist.", "notFound")
        if m == "POST":
            t = q.get("uploadType")
            if t == "media":
                S.bump("media_uploads")
                return self.reply(200, store(b, q["name"], body, ct=self.headers.get("Content-Type")))
            if t == "multipart":
                S.bump("multipart_uploads")
                boundary = self.headers["Content-Type"].split("boundary=")[1].strip('"').encode()
                parts = body.split(b"--" + boundary)
                meta_part, data_part = parts[1], parts[2]
                meta = json.loads(meta_part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n"))
                data = data_part.split(b"\r\n\r\n", 1)[1][:-2]
                return self.reply(200, store(b, meta["name"], data, meta.get("metadata"), meta.get("contentType")))
            if t == "resumable":
                S.bump("sessions")
                meta = json.loads(body or b"{}")
                sid = uuid.uuid4().hex
                S.sessions[sid] = {"bucket": b, "name": q.get("name") or meta.get("name"), "meta": meta,
                                   "data": bytearray(), "done": None, "ct": self.headers.get("X-Upload-Content-Type")}
                loc = "http://%s/upload/storage/v1/b/%s/o?uploadType=resumable&name=%s&upload_id=%s" % (
                    self.headers["Host"], quote(b, safe=""), quote(S.sessions[sid]["name"], safe=""), sid)
                return self.reply(200, b"", {"Location": loc}, None)
        if m == "PUT":
            return self.chunk(q, body)
        if m == "DELETE":
            sid = q.get("upload_id")
            if sid in S.sessions:
                S.bump("sessions_cancelled")
                del S.sessions[sid]
                return self.reply(499, b"", ctype=None)
            return self.err(404, "no such upload", "notFound")
        return self.err(400, "bad upload")

    def chunk(self, q, body):
        s = S.sessions.get(q.get("upload_id"))
        if s is None:
            return self.err(404, "no such upload", "notFound")
        if s["done"] is not None:
            return self.reply(200, s["done"])
        cr = self.headers.get("Content-Range", "")
        committed = len(s["data"])
        rng_hdr = {"Range": "bytes=0-%d" % (committed - 1)} if committed else {}
        mo = re.fullmatch(r"bytes \*/(\*|\d+)", cr)
        if mo:  # a status query, or finalize with no bytes
            if mo.group(1) == "*":
                S.bump("status_queries")
                return self.reply(308, b"", rng_hdr, None)
            if int(mo.group(1)) != committed:
                return self.err(400, "size mismatch")
            return self.finalize(s)
        mo = re.fullmatch(r"bytes (\d+)-(\d+)/(\*|\d+)", cr)
        if not mo:
            return self.err(400, "bad Content-Range %r" % cr)
        first, last, total = int(mo.group(1)), int(mo.group(2)), mo.group(3)
        S.bump("chunks")
        if last - first + 1 != len(body):
            return self.err(400, "Content-Range does not match the body")
        if first != committed:
            return self.err(400, "chunk at %d but %d committed" % (first, committed))
        if total == "*" and len(body) % QUANTUM:
            return self.err(400, "chunk size %d is not a multiple of 256 KiB" % len(body))
        if S.config.get("fail_chunks", 0) > 0:
            S.config["fail_chunks"] -= 1
            S.bump("chunk_faults")
            keep = int(len(body) * float(S.config.get("commit_fraction", 0.5))) // QUANTUM * QUANTUM
            s["data"] += body[:keep]
            return self.err(503, "Backend Error (fault injected after %d bytes)" % keep, "backendError")
        s["data"] += body
        if total != "*":
            if int(total) != len(s["data"]):
                return self.err(400, "final size mismatch")
            return self.finalize(s)
        return self.reply(308, b"", {"Range": "bytes=0-%d" % (len(s["data"]) - 1)}, None)

    def finalize(self, s):
        if s["bucket"] not in S.buckets:
            return self.err(404, "The specified bucket does not exist.", "notFound")
        s["done"] = store(s["bucket"], s["name"], s["data"], s["meta"].get("metadata"),
                          s["ct"] or s["meta"].get("contentType"))
        return self.reply(200, s["done"])

    def rewrite(self, sb, sk, db, dk, q):
        S.bump("rewrite_calls")
        o = S.buckets[sb].get(sk)
        if o is None:
            return self.err(404, "No such object: %s/%s" % (sb, sk), "notFound")
        if db not in S.buckets:
            return self.err(404, "The specified bucket does not exist.", "notFound")
        size = len(o["data"])
        step = int(S.config.get("rewrite_bytes_per_call", 1 << 62))
        done = int(q.get("rewriteToken") or 0) + step
        if done < size:
            return self.reply(200, {"kind": "storage#rewriteResponse", "done": False, "rewriteToken": str(done),
                                    "totalBytesRewritten": str(done), "objectSize": str(size)})
        res = store(db, dk, o["data"], dict(o["meta"]), o["ct"])
        return self.reply(200, {"kind": "storage#rewriteResponse", "done": True, "totalBytesRewritten": str(size),
                                "objectSize": str(size), "resource": res})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    print("GCS_FAKE_PORT=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
