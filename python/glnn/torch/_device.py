"""The name of glnn's CPU reference device, in one place: 'reference' where the library knows it (after
the back-end restructuring, where 'cpu' names the fast SIMD back end), else 'cpu'."""
import threading

import glnn

_lock = threading.Lock()
_name = []


def reference_device():
    """'reference' if glnn accepts that device name, else 'cpu' (the reference in older libraries)."""
    with _lock:
        if not _name:
            try:
                glnn.device_info("reference")
                _name.append("reference")
            except glnn.Error:
                _name.append("cpu")
        return _name[0]
