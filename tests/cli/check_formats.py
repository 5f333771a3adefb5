#!/usr/bin/env python3
"""Independent reader for the files `omnio put -n --format ...` writes.

  check_formats.py FORMAT PAYLOAD_BYTES SAMPLES FILE...

npy/npz: loaded with numpy when it is importable (the shape and dtype must give exactly
PAYLOAD_BYTES); otherwise the NPY header is parsed with struct/ast and the npz is checked with
Python's zipfile (testzip() recomputes every entry's CRC-32). Prints which reader ran.
tfrecord: every record's length and data CRCs are recomputed with a pure-Python CRC-32C and the
published TFRecord mask; FILE.idx (DALI's "offset size" lines), when present, must point at the
records. Exit status 0 when every file passes.
"""
import ast
import io
import os
import struct
import sys
import zipfile

try:
    import numpy  # noqa: F401
    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_T = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def npy_payload(blob, what):
    """Returns (shape, dtype, data offset) from an NPY v1.0 header, parsed by hand."""
    assert blob[:6] == b"\x93NUMPY", f"{what}: no NPY magic"
    assert blob[6:8] == b"\x01\x00", f"{what}: not NPY v1.0"
    (hlen,) = struct.unpack("<H", blob[8:10])
    assert (10 + hlen) % 64 == 0, f"{what}: data not 64-byte aligned"
    header = ast.literal_eval(blob[10:10 + hlen].decode("latin1"))
    return header["shape"], header["descr"], 10 + hlen


def check_array_bytes(shape, itemsize, expect, what):
    n = 1
    for d in shape:
        n *= d
    assert n * itemsize == expect, f"{what}: shape {shape} x {itemsize} != {expect} bytes"


def check_npy(path, payload):
    with open(path, "rb") as f:
        blob = f.read()
    if HAVE_NUMPY:
        a = numpy.load(path)
        check_array_bytes(a.shape, a.itemsize, payload, path)
        assert a.nbytes == payload
        _, _, off = npy_payload(blob, path)
        assert a.tobytes() == blob[off:], f"{path}: numpy data differs from the file's payload"
    else:
        shape, descr, off = npy_payload(blob, path)
        assert descr == "|u1", descr
        check_array_bytes(shape, 1, payload, path)
        assert len(blob) - off == payload, f"{path}: {len(blob) - off} payload bytes"


def check_npz(path, payload, samples):
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()  # reads every entry and checks its CRC-32
        assert bad is None, f"{path}: CRC mismatch in {bad}"
        names = z.namelist()
        assert names == [f"arr_{k}.npy" for k in range(samples)], names
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
        total = 0
        for n in names:
            shape, descr, off = npy_payload(z.read(n), f"{path}:{n}")
            assert descr == "|u1"
            size = 1
            for d in shape:
                size *= d
            total += size
        assert total == payload, f"{path}: arrays hold {total} bytes, want {payload}"
    if HAVE_NUMPY:
        with numpy.load(path) as npz:
            assert sorted(npz.files) == sorted(f"arr_{k}" for k in range(samples))
            assert sum(npz[k].nbytes for k in npz.files) == payload


def check_tfrecord(path, payload, samples):
    with open(path, "rb") as f:
        blob = f.read()
    at, records, total = 0, [], 0
    while at < len(blob):
        assert at + 12 <= len(blob), f"{path}: truncated header at {at}"
        (length,) = struct.unpack("<Q", blob[at:at + 8])
        (lcrc,) = struct.unpack("<I", blob[at + 8:at + 12])
        assert lcrc == masked(crc32c(blob[at:at + 8])), f"{path}: length CRC at {at}"
        data = blob[at + 12:at + 12 + length]
        assert len(data) == length, f"{path}: truncated record at {at}"
        (dcrc,) = struct.unpack("<I", blob[at + 12 + length:at + 16 + length])
        assert dcrc == masked(crc32c(data)), f"{path}: data CRC at {at}"
        records.append((at, length + 16))
        total += length
        at += length + 16
    assert len(records) == samples, f"{path}: {len(records)} records, want {samples}"
    assert total == payload, f"{path}: {total} payload bytes, want {payload}"
    if os.path.exists(path + ".idx"):
        with open(path + ".idx") as f:
            idx = [tuple(int(x) for x in line.split()) for line in f if line.strip()]
        assert idx == records, f"{path}.idx: {idx[:3]} vs records {records[:3]}"


def main():
    fmt, payload, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for path in sys.argv[4:]:
        if fmt == "npy":
            check_npy(path, payload)
        elif fmt == "npz":
            check_npz(path, payload, samples)
        elif fmt == "tfrecord":
            check_tfrecord(path, payload, samples)
        else:
            sys.exit(f"unknown format {fmt}")
    reader = "numpy " + numpy.__version__ if HAVE_NUMPY else "struct + zipfile (numpy not installed)"
    print(f"{fmt}: {len(sys.argv) - 4} files ok ({reader})")


if __name__ == "__main__":
    main()
