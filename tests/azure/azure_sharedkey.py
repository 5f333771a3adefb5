#!/usr/bin/env python3
"""An independent Azure Blob SharedKey signer (stdlib only), written from the Azure Storage REST
documentation ("Authorize with Shared Key"), not from omnio's code. Used to compute the unit test's
signing vector and to drive curl in the CLI cross-check.

  azure_sharedkey.py sign METHOD URL ACCOUNT KEY [Header:Value ...] [--length N]
      prints the headers to send (x-ms-date, x-ms-version, Authorization), one per line
  azure_sharedkey.py vector
      prints the string to sign and Authorization of the fixed request the unit test uses
"""
import base64
import hashlib
import hmac
import sys
import urllib.parse
from email.utils import formatdate

API_VERSION = "2023-11-03"


def string_to_sign(method, url, account, headers, length):
    h = {k.lower(): v.strip() for k, v in headers.items()}
    parts = urllib.parse.urlsplit(url)
    fields = [method,
              h.get("content-encoding", ""), h.get("content-language", ""),
              "" if length == 0 else str(length),
              h.get("content-md5", ""), h.get("content-type", ""), h.get("date", ""),
              h.get("if-modified-since", ""), h.get("if-match", ""), h.get("if-none-match", ""),
              h.get("if-unmodified-since", ""), h.get("range", "")]
    s = "\n".join(fields) + "\n"
    for k in sorted(k for k in h if k.startswith("x-ms-")):
        s += f"{k}:{h[k]}\n"
    s += f"/{account}{parts.path or '/'}"
    q = {}
    for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        q.setdefault(k.lower(), []).append(v)
    for k in sorted(q):
        s += f"\n{k}:{','.join(sorted(q[k]))}"
    return s


def authorization(method, url, account, key_b64, headers, length):
    sts = string_to_sign(method, url, account, headers, length)
    mac = hmac.new(base64.b64decode(key_b64), sts.encode("utf-8"), hashlib.sha256).digest()
    return sts, f"SharedKey {account}:{base64.b64encode(mac).decode()}"


def main():
    if sys.argv[1] == "vector":
        key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
        headers = {"x-ms-date": "Wed, 25 Nov 2026 01:02:03 GMT", "x-ms-version": API_VERSION,
                   "x-ms-range": "bytes=0-99", "If-Match": "\"0x8D\"", "Content-Type": "text/plain",
                   "x-ms-meta-Color": " blue "}
        url = ("http://127.0.0.1:10000/devstoreaccount1/c1/dir/a%20b%2Bc.bin"
               "?comp=block&blockid=AAA%3D&Timeout=30")
        sts, auth = authorization("PUT", url, "devstoreaccount1", key, headers, 11)
        print(repr(sts))
        print(auth)
        return
    method, url, account, key = sys.argv[2:6]
    rest = sys.argv[6:]
    length = 0
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION}
    i = 0
    while i < len(rest):
        if rest[i] == "--length":
            length = int(rest[i + 1])
            i += 2
            continue
        k, v = rest[i].split(":", 1)
        headers[k] = v.strip()
        i += 1
    _, auth = authorization(method, url, account, key, headers, length)
    for k, v in headers.items():
        print(f"{k}: {v}")
    print(f"Authorization: {auth}")


if __name__ == "__main__":
    main()
