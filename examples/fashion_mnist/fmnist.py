"""Fashion-MNIST for glnn's examples: the dataset (Debian's dataset-fashion-mnist, idx files under
/usr/share/datasets/fashion-mnist), its class names, and the reference device name.  Needs numpy only."""
import gzip
import os
import pathlib

import numpy as np

DATASET_DIR = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class DatasetMissing(FileNotFoundError):
    pass


def _read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    head = np.frombuffer(raw[:4], dtype=">u4")[0]
    if head != magic:
        raise ValueError("%s: not an idx file of type %d (magic %d)" % (path, magic, head))
    ndim = magic & 0xFF
    dims = np.frombuffer(raw[4:4 + 4 * ndim], dtype=">u4").astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for dimensions %s" % (path, data.size, list(dims)))
    return data.reshape(dims)


def load(split, directory=None):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of the 'train' (60,000) or 'test' (10,000) split."""
    d = pathlib.Path(directory) if directory else DATASET_DIR
    paths = [d / f for f in FILES[split]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetMissing("Fashion-MNIST not found (%s); on Debian: apt-get install dataset-fashion-mnist"
                             % ", ".join(missing))
    return _read_idx(paths[0], 2051), _read_idx(paths[1], 2049)


def reference_device():
    """glnn's CPU reference: 'reference' where the library knows that name, else 'cpu'."""
    import glnn
    try:
        glnn.device_info("reference")
        return "reference"
    except glnn.Error:
        return "cpu"
