#!/usr/bin/env python3
"""The PyTorch peer of `omnio load`: a map-style Dataset that reads whole files, a
torch.utils.data.DataLoader with num_workers worker processes; the data is dropped.
Prints one line: items bytes seconds (seconds = listing + the loop, without `import torch`)."""
import os
import sys
import time

import torch  # noqa: F401  (the import is not timed)
from torch.utils.data import DataLoader, Dataset


class Files(Dataset):
    def __init__(self, root):
        self.paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            return f.read()


def keep(batch):  # the bytes as they are (the default collate would make tensors)
    return batch


def main():
    root, batch_size, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    t0 = time.monotonic()
    loader = DataLoader(Files(root), batch_size=batch_size, num_workers=workers,
                        collate_fn=keep, prefetch_factor=4 if workers else None)
    items = nbytes = 0
    for batch in loader:
        for x in batch:
            items += 1
            nbytes += len(x)
    print(items, nbytes, time.monotonic() - t0)


if __name__ == "__main__":
    main()
