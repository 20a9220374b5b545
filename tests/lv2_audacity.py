#!/usr/bin/python3
"""Drives a running Audacity through its scripting pipes (mod-script-pipe),
for tests/test_lv2_audacity.sh.

  lv2_audacity.py run TIMEOUT COMMAND...
      connects to /tmp/audacity_script_pipe.to.<uid> / .from.<uid>, waits
      until Audacity has a project to run commands in (it answers an empty
      line before that), then sends each COMMAND in order, printing
      "> COMMAND" and Audacity's reply. Exits 0 when every reply ends with
      "BatchCommand finished: OK"; 1 on a failed command, when the whole
      session has not finished within TIMEOUT seconds (a modal dialog
      blocks Audacity's replies), or when Audacity closes the pipes (it
      died).
  lv2_audacity.py ipc-keys DATADIR
      prints the three System V IPC keys (shared memory, then two
      semaphores) that Audacity derives from its data directory with
      ftok(DATADIR, 0/1/2) for its single-instance check; Audacity never
      removes them, so the test does.

One connection runs all the commands: when a client closes the pipes,
Audacity's pipe server deletes and re-creates them, and a second client
could open the old ones in between. Only the Python standard library.
What this is not: a general Audacity client (no quoting of arguments; the
caller writes each command as Audacity expects it).
"""
import errno
import os
import select
import sys
import time

FINISHED = b"BatchCommand finished:"


class PipeError(Exception):
    pass


def open_pipes(deadline):
    """Opens the two pipes; waits for Audacity to create and listen on them."""
    uid = os.getuid()
    to_path = "/tmp/audacity_script_pipe.to.%d" % uid
    from_path = "/tmp/audacity_script_pipe.from.%d" % uid
    while True:
        try:
            # non-blocking: fails (ENXIO) until Audacity's server reads it
            to_fd = os.open(to_path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENXIO):
                raise
        if time.monotonic() > deadline:
            raise PipeError("Audacity did not open %s" % to_path)
        time.sleep(0.1)
    os.set_blocking(to_fd, True)
    from_fd = os.open(from_path, os.O_RDONLY | os.O_NONBLOCK)
    return to_fd, from_fd


def reply(from_fd, deadline, seen):
    """Reads one reply. Returns its bytes, or None for an empty reply (what
    Audacity sends while it has no project yet). seen: a one-item list, true
    once Audacity has written anything (after which end of file means it
    closed the pipe)."""
    buf = b""
    while True:
        if FINISHED in buf and buf.endswith(b"\n\n"):
            return buf
        left = deadline - time.monotonic()
        if left <= 0:
            raise PipeError("no complete reply in time; got %r" % buf[-300:])
        ready, _, _ = select.select([from_fd], [], [], min(left, 0.5))
        if not ready:
            # replies are written whole; silence after a bare newline means
            # that was all
            if buf and not buf.strip():
                return None
            continue
        data = os.read(from_fd, 65536)
        if not data:
            # no writer: Audacity has not opened its end yet, or closed it
            if seen[0]:
                raise PipeError("Audacity closed the pipe (did it crash?)")
            time.sleep(0.05)
            continue
        seen[0] = True
        buf += data


def send(to_fd, command):
    os.write(to_fd, command.encode("utf-8") + b"\n")


def run(timeout, commands):
    deadline = time.monotonic() + timeout
    to_fd, from_fd = open_pipes(deadline)
    seen = [False]
    # wait until commands run (a project exists)
    while True:
        send(to_fd, "Help: Command=Help")
        r = reply(from_fd, deadline, seen)
        if r is not None:
            break
        time.sleep(0.5)
    for c in commands:
        print("> " + c, flush=True)
        send(to_fd, c)
        r = reply(from_fd, deadline, seen).decode("utf-8", "replace")
        print(r.strip("\n"), flush=True)
        if "BatchCommand finished: OK" not in r:
            raise PipeError("command failed: " + c)
    os.close(to_fd)
    os.close(from_fd)


def ipc_keys(datadir):
    """glibc's ftok(): project id, low byte of the device, low 16 bits of
    the inode."""
    st = os.stat(datadir)
    return ["0x%08x" % ((p << 24) | ((st.st_dev & 0xFF) << 16) | (st.st_ino & 0xFFFF))
            for p in (0, 1, 2)]


def main(argv):
    if len(argv) == 3 and argv[1] == "ipc-keys":
        print(" ".join(ipc_keys(argv[2])))
        return 0
    if len(argv) >= 3 and argv[1] == "run":
        try:
            run(float(argv[2]), argv[3:])
        except (PipeError, OSError) as e:
            print("lv2_audacity.py: %s" % e, file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
