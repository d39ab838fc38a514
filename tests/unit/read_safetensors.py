#!/usr/bin/env python3
"""Reads and writes safetensors files with only the standard library and numpy,
following the published format (8-byte little-endian header length, JSON
header, byte buffer). The `safetensors` package is not needed: the tests use
this script to prove that our files are readable from Python and that files
written outside our C++ code are readable by our reader.

  read_safetensors.py read FILE    print metadata and every tensor's values
  read_safetensors.py write FILE   write the fixed example file the tests expect
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
          "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read(path):
    """Returns (metadata, {name: (dtype, shape, numpy array)}) and checks the layout."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length beyond the file"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buffer = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        shape = info["shape"]
        assert (end - begin) == int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, name
        array = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape)
        if info["dtype"] == "BF16":  # numpy has no bfloat16: widen the bits to float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = (info["dtype"], shape, array)
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        assert begin == position, "gap or overlap in the buffer"
        position = end
    assert position == len(buffer), "bytes after the last tensor"
    return metadata, tensors


def format_value(x):
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(int(x))


def print_file(path):
    metadata, tensors = read(path)
    for key in sorted(metadata):
        print(f"meta {key}={metadata[key]}")
    for name in sorted(tensors):
        dtype, shape, array = tensors[name]
        values = " ".join(format_value(x) for x in array.reshape(-1).tolist())
        print(f"tensor {name} {dtype} {list(shape)} {values}".rstrip())


def write_example(path):
    """Header lists tensors in a different order than the buffer holds them."""
    items = [  # (name, dtype, shape, little-endian bytes), in buffer order
        ("weights", "F32", [2, 2], np.array([0.5, -1.0, 2.0, 3.25], "<f4").tobytes()),
        ("ids", "I64", [3], np.array([-3, 0, 1 << 40], "<i8").tobytes()),
        ("scale", "BF16", [2], np.array([0x3F80, 0xC020], "<u2").tobytes()),  # 1.0, -2.5
        ("half", "F16", [2], np.array([0.5, -2.0], "<f2").tobytes()),
        ("flags", "BOOL", [4], bytes([1, 0, 0, 1])),
        ("mask", "U8", [2, 3], bytes([0, 1, 2, 253, 254, 255])),
    ]
    entries, offset = [], 0
    for name, dtype, shape, raw in items:
        entries.append((name, {"dtype": dtype, "shape": shape,
                               "data_offsets": [offset, offset + len(raw)]}))
        offset += len(raw)
    header = {"__metadata__": {"origin": "python", "format": "pt"}}
    header.update(reversed(entries))
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(raw for *_, raw in items))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "write"):
        sys.exit(__doc__)
    (print_file if sys.argv[1] == "read" else write_example)(sys.argv[2])
