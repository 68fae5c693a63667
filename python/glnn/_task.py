"""glnn.InferenceTask: a model, its data and a device.  The work is the extension's (binding data, preparing and
running with the GIL released, the figures of the last run: Model._bind, Model._execute, Model._profile); this class
holds the three together, checks its arguments when it is made, and turns the figures of a run into a profile."""
from . import _glnn

nnets = _glnn.nnets


class InferenceTask:
    """InferenceTask(model, data=None, device=None, max_sampled_channels=-1)

    Runs `model` with the weights of `data` (a ChunkFile or WritableChunkCollection, or None for a model without
    weights) on a device: None (the GLNN_DEVICE environment variable, else 'auto'), 'auto' (a hardware GPU, else
    'cpu' — or Mesa's software renderer when GLNN_PATH names a GPU path), 'cpu' (the fast CPU back end), 'reference'
    (the plain-C reference), 'gpu' (a hardware GPU, else Mesa's software renderer), 'software' or a device index (see
    glnn.devices()).  max_sampled_channels sets the GPU sampling limit (SPEC §4.10; -1: the device's default, 0:
    none).  The device is opened when the task is made (an unknown device is an error then); its context belongs to
    the calling thread: run a task from the thread that made it.
    """

    __slots__ = ("_model", "_data", "_device", "_limit", "_description")

    def __init__(self, model, data=None, device=None, max_sampled_channels=-1):
        if not isinstance(model, nnets.Model):
            raise TypeError("InferenceTask: model must be a glnn.nnets.Model, not %s" % type(model).__name__)
        if data is not None and not isinstance(data, _glnn.ChunkCollection):
            raise TypeError("InferenceTask: data must be a ChunkFile, a WritableChunkCollection or None, not %s"
                            % type(data).__name__)
        self._device, self._description = _glnn._open_device(device, max_sampled_channels)
        self._model, self._data, self._limit = model, data, max_sampled_channels

    @property
    def model(self):
        """The model (read-only)."""
        return self._model

    @property
    def data(self):
        """The model data (read-only)."""
        return self._data

    @property
    def device(self):
        """Description of the device the task runs on, e.g. 'cpu reference'."""
        return self._description

    def connect(self, image, op, input_index=0):
        """Binds user data to an op input that has no connection.  Input #0 of an ImageSampler or of an image Conv2D
        takes an image: uint8 (H, W, 3), (H, W, 4) (alpha dropped), (H, W, 1) or (H, W) (grey), or floats in [0, 1].
        Other inputs take a tensor (H, W, C), C a multiple of 4, as uint8 or floats in [0, 1] (quantized with Q).
        Floats outside [0, 1] are an error (SPEC §2.2: divide 8-bit data by 255).  The data are copied."""
        self._model._bind(image, op, input_index)

    def prepare(self):
        """Checks the model, computes shapes and reads the weights without running (counters become available)."""
        self._model._execute(self._data, self._device, self._limit, False)

    def run(self):
        """Runs the model on the task's device (prepared first when needed), with the GIL released."""
        self._model._execute(self._data, self._device, self._limit, True)

    def profile(self):
        """The time of every op in the last run, in execution order, as dicts: index, op (its name), type, ms, timer
        ('gpu': timer queries, where the driver has them for every op; else 'wall': the wall clock with the device
        finished after each op), share (of the sum), gmacs (G multiply-adds/s), wall_ms, multiply_adds,
        texel_fetches, weights.  `glnn run --profile` prints the same."""
        try:
            rows = self._model._profile()
        except _glnn.Error as e:
            if e.status != "invalid state":
                raise
            rows = []
        if not rows or any(r[2] < 0 for r in rows):
            raise _glnn.Error("profile: the task has not run; call run() first")
        gpu = all(r[3] >= 0 for r in rows)
        times = [r[3] if gpu else r[2] for r in rows]
        total = sum(times)
        return [{"index": i, "op": name, "type": type_name, "ms": ms, "timer": "gpu" if gpu else "wall",
                 "share": ms / total if total > 0 else 0.0, "gmacs": macs / ms / 1e6 if ms > 0 else 0.0,
                 "wall_ms": wall, "multiply_adds": macs, "texel_fetches": fetches, "weights": weights}
                for i, ((name, type_name, wall, _, macs, fetches, weights), ms) in enumerate(zip(rows, times))]

    def get_probabilities(self, op=None):
        """Same as model.get_probabilities()."""
        return self._model.get_probabilities(op)

    def get_output_data(self, op, output=0):
        """Same as model.get_output_data()."""
        return self._model.get_output_data(op, output)

    def __repr__(self):
        return "<glnn.InferenceTask on device '%s'>" % self._device


InferenceTask.__module__ = "glnn"
