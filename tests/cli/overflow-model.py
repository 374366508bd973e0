#!/usr/bin/env python3
"""Writes a copy of a .thaw model whose first convolution kernel is scaled so
far up (still finite) that the activations overflow: training on it gives a
non-finite loss at the first step. For the CLI's NaN test:
overflow-model.py IN.thaw OUT.thaw"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import thaw_checkpoint  # noqa: E402


def main():
    config, tensors = thaw_checkpoint.read(sys.argv[1])
    out = []
    for name, dtype, dims, values in tensors:
        if name == "conv1_conv/kernel":
            values = [v * 1e37 for v in values]
        out.append((name, dtype, dims, values))
    thaw_checkpoint.write(sys.argv[2], config, out)


if __name__ == "__main__":
    main()
