"""A sandbox org's `manage.py` commands, one after another in this one process (tests/sandbox_org.py).

Reads one JSON list of arguments a line from stdin, runs it as `manage.py ARGS` would, and writes
{"code", "stdout", "stderr"} as one JSON line to the file descriptor given as its argument.
"""

import contextlib
import io
import json
import os
import sys
import traceback

import django
from django.core.management import execute_from_command_line
from django.db import connections


def main(reply_fd: int) -> None:
    django.setup()  # once, before the first command arrives
    replies = os.fdopen(reply_fd, "w")
    for line in sys.stdin:
        args = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                execute_from_command_line(["manage.py", *args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                connections.close_all()
        replies.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main(int(sys.argv[1]))
