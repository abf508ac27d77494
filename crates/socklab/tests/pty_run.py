#!/usr/bin/env python3
"""Run a command on a pseudo-terminal, as a person at a terminal would.

Bytes on our stdin are typed into the terminal; what the program draws on it comes out on
our stdout, unchanged (escape codes included). Exits with the program's exit status.
Used by the interactive tests: socklab only starts its line editor when stdin and stdout
are terminals.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
stdin_open = True
while True:
    fds = [fd] + ([0] if stdin_open else [])
    ready, _, _ = select.select(fds, [], [])
    if 0 in ready:
        data = os.read(0, 4096)
        if not data:
            stdin_open = False
        else:
            os.write(fd, data)
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
