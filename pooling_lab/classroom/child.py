"""The graded side of ``grade``'s sandbox (:mod:`.sandbox`): run a submission's cells, then call
its functions. ``python -I -S child.py FD SITE LIMITS SECCOMP``

It imports only the standard library, NumPy (from the folder ``SITE``) and :mod:`.watch` (beside
this file); outside bubblewrap it loads the seccomp program in the file ``SECCOMP`` itself (-1:
none). It speaks only over the socket ``FD``, in frames: first the cells to run, then one
request per call, answered with what :func:`watch.watched_call` saw. A frame is its length, a
JSON header, then the ``.npy`` bytes of the arrays it carries (``{"\\0npy": k}`` in the header
points at the k-th), each after its length (8 bytes). Nothing is ever unpickled.
"""

import ast
import contextlib
import io
import json
import linecache
import math
import os
import resource
import socket
import sys
import time

if __name__ == "__main__":      # in the sandbox: NumPy and the watch from the folders it names
    sys.path[:0] = [sys.argv[2], os.path.dirname(os.path.abspath(__file__))]
import numpy as np  # noqa: E402  (found through the path above)

#: A reply larger than this is refused by the grader (and ends the sandbox).
FRAME_LIMIT = 64 * 1024**2
#: Lists and tuples nested deeper than this cross as a placeholder.
DEPTH_LIMIT = 64


def _other(value) -> dict:
    """The placeholder of a value that does not cross: its type's name and a short repr."""
    try:
        text = repr(value)[:200]
    except BaseException:       # a student's __repr__ may raise anything
        text = "(no repr)"
    return {"\0other": [type(value).__name__[:60], text]}


def pack(message) -> bytes:
    """``message`` (dicts, lists, tuples, numbers, strings, None, arrays) as one frame's body."""
    blobs = []

    def plain(value, depth):
        if isinstance(value, np.ndarray) and value.nbytes > FRAME_LIMIT:
            return _other(value)                   # would be refused: its repr is short
        if isinstance(value, (np.ndarray, np.generic, complex)):
            buffer = io.BytesIO()
            try:
                np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            except ValueError:                     # an array of Python objects
                return _other(value)
            blobs.append(buffer.getvalue())
            key = "\0npy" if isinstance(value, np.ndarray) else "\0scalar"
            return {key: len(blobs) - 1}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if depth > DEPTH_LIMIT:
            return _other(value)
        if isinstance(value, dict):                # the protocol's own messages
            return {str(key): plain(item, depth + 1) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item, depth + 1) for item in value]
        if isinstance(value, tuple):
            return {"\0tuple": [plain(item, depth + 1) for item in value]}
        return _other(value)

    header = json.dumps(plain(message, 0)).encode()
    return b"".join([len(header).to_bytes(8, "big"), header,
                     *(len(blob).to_bytes(8, "big") + blob for blob in blobs)])


def _array(blob: bytes) -> np.ndarray:
    """The array in ``.npy`` bytes, its size checked against its header before any allocation."""
    stream = io.BytesIO(blob)
    version = np.lib.format.read_magic(stream)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}[version]
    shape, fortran, dtype = read_header(stream)
    data = blob[stream.tell():]
    if dtype.hasobject or dtype.itemsize == 0 or math.prod(shape) * dtype.itemsize != len(data):
        raise ValueError("an array whose header does not match its bytes")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()


def unpack(body: bytes, placeholder=None):
    """The message in a frame's body; ``placeholder(type name, repr)`` rebuilds the others."""
    size = int.from_bytes(body[:8], "big")
    header, blobs, at = json.loads(body[8:8 + size]), [], 8 + size
    while at < len(body):
        length = int.from_bytes(body[at:at + 8], "big")
        blobs.append(body[at + 8:at + 8 + length])
        at += 8 + length

    def rebuild(value):
        if isinstance(value, list):
            return [rebuild(item) for item in value]
        if not isinstance(value, dict):
            return value
        (key, item), = value.items() if len(value) == 1 else [(None, None)]
        if key == "\0npy":
            return _array(blobs[item])
        if key == "\0scalar":
            return _array(blobs[item])[()]
        if key == "\0tuple":
            return tuple(map(rebuild, item))
        if key == "\0other":
            return placeholder(*item) if placeholder else None
        return {name: rebuild(item) for name, item in value.items()}
    return rebuild(header)


def send(channel: socket.socket, message) -> None:
    body = pack(message)
    channel.sendall(len(body).to_bytes(8, "big") + body)


def receive(channel: socket.socket, limit=FRAME_LIMIT, deadline=None) -> bytes:
    """One frame's body (at most ``limit`` bytes), by ``deadline`` (``time.monotonic()``)."""
    def exactly(count):
        buffer = bytearray(count)
        view, got = memoryview(buffer), 0
        while got < count:
            if deadline is not None:                # TimeoutError once it has passed
                channel.settimeout(max(deadline - time.monotonic(), 0.001))
            read = channel.recv_into(view[got:])
            if not read:
                raise EOFError("the other side closed the channel")
            got += read
        return bytes(buffer)
    size = int.from_bytes(exactly(8), "big")
    if size > limit:
        raise OverflowError(f"a reply of {size:,} bytes (the limit is {limit:,})")
    return exactly(size)


class _Shell:
    """``get_ipython()`` and ``check`` here: ``%time`` and ``%%time``, ``%%capture`` run their
    code in the notebook's namespace as IPython does; any other attribute (every other magic,
    ``!`` line and checker) is a function that does nothing."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def run_line_magic(self, name, line):
        if name == "time":
            exec(compile(line, "%time", "exec"), self.namespace)

    def run_cell_magic(self, name, line, cell):
        if name in ("time", "capture"):
            exec(compile(cell, f"%%{name}", "exec"), self.namespace)


def _no_new_processes(fd: int) -> None:
    """Load the grader's seccomp program (BPF, in the file ``fd``) on this process: from now on
    fork is refused, threads are not (what bubblewrap's ``--seccomp`` does)."""
    import ctypes
    program = os.read(fd, 1 << 16)

    class Program(ctypes.Structure):               # the kernel's struct sock_fprog
        _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
    libc, no_new_privileges, set_seccomp, filter_mode = ctypes.CDLL(None, use_errno=True), 38, 22, 2
    if libc.prctl(no_new_privileges, 1, 0, 0, 0) or libc.prctl(
            set_seccomp, filter_mode, ctypes.byref(Program(len(program) // 8, program)), 0, 0):
        raise OSError(ctypes.get_errno(), "the seccomp program was refused")


def _run_cells(channel, request) -> tuple[dict, list]:
    """Run each statement of each cell (a failure costs only that statement), saying which
    runs; ``(namespace, [[label, line, error]])``."""
    namespace, failed = {"__name__": "__main__"}, []
    shell = namespace["check"] = _Shell(namespace)
    namespace["get_ipython"] = lambda: shell
    # ``from pooling_lab import check`` in a student's cell: the same no-op, and nothing else
    sys.modules["pooling_lab"] = type(sys)("pooling_lab")
    sys.modules["pooling_lab"].check = shell
    exec(compile(request["preamble"], "preamble", "exec"), namespace)
    for number, (label, source) in enumerate(request["cells"]):   # tracebacks show its lines
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        for index, statement in enumerate(ast.parse(source, label).body):
            if [number, index] in request["skip"]:
                continue
            send(channel, {"running": [number, index]})
            try:
                exec(compile(ast.Module([statement], []), label, "exec"), namespace)
            except BaseException as error:         # SystemExit and KeyboardInterrupt too
                failed.append([label, statement.lineno, f"{type(error).__name__}: {error}"[:300]])
    return namespace, failed


def main() -> None:
    fd, limits = int(sys.argv[1]), json.loads(sys.argv[3])
    import watch                 # beside this file, found through the path set above
    for name, value in limits.items():      # soft = hard: the student's code cannot raise them
        # one the system lacks (macOS: RLIMIT_AS) is skipped
        with contextlib.suppress(ValueError, OSError, AttributeError):
            resource.setrlimit(getattr(resource, name), (value, value))
    if int(sys.argv[4]) >= 0:
        _no_new_processes(int(sys.argv[4]))
    channel = socket.socket(fileno=fd)
    request = unpack(receive(channel))
    namespace, failed = _run_cells(channel, request)
    functions = sorted(name for name, value in namespace.items() if callable(value))
    send(channel, {"ready": functions, "failed": failed})
    while True:
        request = unpack(receive(channel))
        call = watch.watched_call(namespace[request["function"]], request["inputs"],
                                  request["limit"], request["forbid_at"])
        reply = dict(call._asdict(), printed=call.printed[-20_000:])
        try:
            send(channel, {"call": reply})
        except (ValueError, OverflowError, TypeError, RecursionError, MemoryError):  # huge int
            send(channel, {"call": dict(reply, result=_other(call.result))})


if __name__ == "__main__":
    main()
