#!/usr/bin/env python3
"""tests/e2e/pty_answer.py: run a command on a new pseudo-terminal (its
controlling terminal, standard input, output and error), answer a prompt,
and report what the terminal showed.

    pty_answer.py PROMPT ANSWER OUTFILE -- COMMAND...

When PROMPT (a substring) appears on the terminal, ANSWER and a newline are
typed. Everything the terminal showed goes to OUTFILE; the exit status is
the command's (124 when it ran past 30 seconds, 125 when the prompt never
came and the command ended).
"""
import os
import pty
import select
import sys
import time


def main():
    prompt, answer, outfile = sys.argv[1], sys.argv[2], sys.argv[3]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    answered = False
    deadline = time.time() + 30
    while True:
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            open(outfile, "wb").write(seen)
            sys.exit(124)
        r, _, _ = select.select([fd], [], [], 0.5)
        if fd in r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
        if not answered and prompt.encode() in seen:
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    open(outfile, "wb").write(seen)
    if not answered:
        sys.exit(125)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
