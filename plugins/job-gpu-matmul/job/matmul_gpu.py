#!/usr/bin/env python3
"""horde gpu-matmul job, GPU solver: the same computation and output as matmul.mjs (see it and the
README for the format), with C = A·B computed on the GPU by torch._int_mm (int8 in, int32 out,
exact). A and B are generated on the CPU with AES-128-CTR (AES-NI: GB/s) and moved to the GPU.

    matmul_gpu.py --seed <seed> --n <size> --challenges <k>
"""
import argparse
import base64
import hashlib
import json
import sys

import numpy as np
import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

FORMAT = "horde-gpu-matmul/1"


def matrix(seed, which, n):
    """All n rows of A or B: row r is the AES-CTR keystream from block r*ceil(n/16), as int8."""
    key = hashlib.sha256(f"{FORMAT}:{which}:{seed}".encode()).digest()[:16]
    blocks_per_row = -(-n // 16)
    # Rows are consecutive keystream blocks, so one stream from block 0 gives every row in order.
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    stream = encryptor.update(bytes(n * blocks_per_row * 16))
    return np.frombuffer(stream, dtype=np.int8).reshape(n, blocks_per_row * 16)[:, :n]


def leaf_hash(index, row_bytes):
    return hashlib.sha256(b"\x00" + index.to_bytes(4, "big") + row_bytes).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--challenges", type=int, required=True)
    args = parser.parse_args(argv)
    n = args.n
    if not 1 <= n <= 65536:
        raise ValueError("--n must be a whole number from 1 to 65536")
    device = torch.device("cuda")
    a = torch.from_numpy(np.ascontiguousarray(matrix(args.seed, "A", n))).to(device)
    b = torch.from_numpy(np.ascontiguousarray(matrix(args.seed, "B", n))).to(device)
    # torch._int_mm needs dimensions that are multiples of 8 (and > 16): pad with zeros, which
    # change no entry of the product, and cut the padding off again.
    padded = max(32, -(-n // 8) * 8)
    if padded != n:
        a = torch.nn.functional.pad(a, (0, padded - n, 0, padded - n))
        b = torch.nn.functional.pad(b, (0, padded - n, 0, padded - n))
    c = torch._int_mm(a, b)[:n, :n].contiguous().cpu().numpy().astype("<i4", copy=False)

    rows = [c[r].tobytes() for r in range(n)]
    levels = [[leaf_hash(r, rows[r]) for r in range(n)]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) if i + 1 < len(below) else below[i] for i in range(0, len(below), 2)])
    root = levels[-1][0].hex()

    answered = []
    for t in range(args.challenges):
        digest = hashlib.sha256(f"{FORMAT}:{args.seed}:{root}:{t}".encode()).digest()
        index = int.from_bytes(digest[:8], "big") % n
        proof = []
        position = index
        for level in levels[:-1]:
            sibling = position + 1 if position % 2 == 0 else position - 1
            if sibling < len(level):
                proof.append(level[sibling].hex())
            position //= 2
        answered.append({"index": index, "values": base64.b64encode(rows[index]).decode(), "proof": proof})
    print(json.dumps({"format": FORMAT, "root": root, "rows": answered}, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:
        print(f"gpu-matmul: {error}", file=sys.stderr)
        sys.exit(1)
