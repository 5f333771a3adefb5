#!/usr/bin/env python3
"""The PyTorch peer of `omnio load`: a map-style Dataset that reads whole objects, a
torch.utils.data.DataLoader with num_workers worker processes; the data is dropped.
ROOT is a directory (each file read with open().read()) or s3://BUCKET/PREFIX (each object read
with boto3 get_object(...)["Body"].read(), one boto3 client per worker process; endpoint and keys
from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
Usage: torch_load.py ROOT BATCH_SIZE NUM_WORKERS [EPOCHS (default 1)]
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


def s3_client():
    import boto3  # Debian python3-boto3

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


class S3Objects(Dataset):
    def __init__(self, uri):
        self.bucket, _, self.prefix = uri[len("s3://"):].partition("/")
        self.keys = []
        for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self.prefix):
            self.keys += [o["Key"] for o in page.get("Contents", [])]
        self.client = None  # made in each worker process (clients must not cross a fork)

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, i):
        if self.client is None:
            self.client = s3_client()
        return self.client.get_object(Bucket=self.bucket, Key=self.keys[i])["Body"].read()


def keep(batch):  # the bytes as they are (the default collate would make tensors)
    return batch


def main():
    root, batch_size, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    t0 = time.monotonic()
    ds = S3Objects(root) if root.startswith("s3://") else Files(root)
    loader = DataLoader(ds, batch_size=batch_size, num_workers=workers,
                        collate_fn=keep, prefetch_factor=4 if workers else None)
    items = nbytes = 0
    for _ in range(epochs):
        for batch in loader:
            for x in batch:
                items += 1
                nbytes += len(x)
    print(items, nbytes, time.monotonic() - t0)


if __name__ == "__main__":
    main()
