"""The ``sigest`` command: list what is installed, run the demo, denoise recordings."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import signal
import sys
import textwrap
import threading


def _table(rows, columns):
    if not rows:
        return "(none)"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip()
              for r in rows]
    return "\n".join(lines)


def cmd_list(args):
    from .plugins import estimator_entries

    entries = estimator_entries()
    rows = [{"name": e.name, "task": e.task, "plugin": e.plugin, "description": e.description}
            for e in sorted(entries.values(), key=lambda e: (e.task, e.name))
            if args.task is None or e.task == args.task]
    print(_table(rows, ["name", "task", "plugin", "description"]))


def cmd_plugins(args):
    from .plugins import plugin_info

    rows = []
    for info in plugin_info():
        registers = ", ".join(info.get("estimators", []) + info.get("datasets", [])
                              + info.get("noises", []))
        rows.append({"plugin": info["name"], "package": info["package"],
                     "version": info["version"],
                     "registers": info.get("error") or (
                         registers if args.all else textwrap.shorten(registers, 70))})
    print(_table(rows, ["plugin", "package", "version", "registers"]))


def _init_parameters(cls):
    """Parameters with defaults along the MRO, as a user of ``cls(**params)`` sees them."""
    params = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            params[p.name] = p.default
    return params


def cmd_info(args):
    from .plugins import estimator_entries, get_estimator_class

    cls = get_estimator_class(args.name)
    entry = estimator_entries()[args.name]
    print(f"{args.name}: {cls.__module__}.{cls.__qualname__} ({entry.task}, plugin "
          f"{entry.plugin})")
    doc = inspect.getdoc(cls) or ""
    print("\n" + (doc.split("\n\n")[0] if doc else entry.description) + "\n")
    print("Parameters (defaults):")
    for name, default in _init_parameters(cls).items():
        shown = getattr(default, "__name__", None) if isinstance(default, type) else None
        print(f"  {name} = {shown or repr(default)}")
    module = _init_parameters(cls).get("module")
    if isinstance(module, type):
        params = list(inspect.signature(module.__init__).parameters.values())[1:]
        inferred = [p.name for p in params
                    if p.name in getattr(cls, "_inferred_module_params", ())]
        print(f"\nNetwork parameters (module__*) of {module.__name__} ({', '.join(inferred)}: "
              "set by the estimator at fit):")
        for p in params:
            if p.name in inferred or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            default = "" if p.default is p.empty else f" = {p.default!r}"
            print(f"  module__{p.name}{default}")


def cmd_datasets(args):
    from . import datasets

    status = getattr(datasets, "status", None)
    if status is None:
        print("no data set status available in this version")
        return 1
    from .plugins import dataset_entries

    rows = [{**row, "found": "yes" if row.get("found") else "no"} for row in status(args.path)]
    known = {row["name"] for row in rows}
    # a plugin's data sets: sigest cannot tell whether their files are present
    rows += [{"name": name, "found": "n/a", "path": "",
              "detail": f"plugin {entry.plugin}: {entry.description}"}
             for name, entry in dataset_entries().items() if name not in known]
    print(_table(rows, ["name", "found", "path", "detail"]))


def cmd_demo(args):
    from .demo import run_demo

    run_demo(output=args.output, verbose=not args.quiet)


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sigest", description="scikit-learn-compatible deep-learning estimators for "
        "biosignals, with plugins.")
    parser.add_argument("--version", action="version", version=f"sigest {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the registered estimators")
    p.add_argument("--task", choices=["denoising", "classification", "generation"],
                   help="only the estimators of this task")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("plugins", help="list the installed plugins and what they register")
    p.add_argument("--all", action="store_true",
                   help="every name each plugin registers (default: the first few)")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("info", help="show an estimator's parameters and summary")
    p.add_argument("name", help="registered estimator name (sigest list)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("datasets", help="list the known data sets and whether they were found")
    p.add_argument("--path", default=None, help="data folder (default: $SIGEST_DATA)")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("demo", help="denoise the packaged EEG sample and print the scores")
    p.add_argument("--output", default="sigest-demo.png", help="before/after figure path")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    for register in _command_modules():
        register(sub)
    return parser


def _command_modules():
    """Commands defined next to what they drive (e.g. ``sigest denoise``)."""
    hooks = []
    try:
        from .recordings import register_commands
    except ImportError:
        pass
    else:
        hooks.append(register_commands)
    return hooks


def main(argv=None):
    """Run the ``sigest`` command; a reader that goes away (``sigest list | head``) ends it quietly.

    Python's recipe for SIGPIPE (see the notes on :mod:`signal`): on a broken pipe, point
    stdout at devnull, so that the flush at exit cannot fail again, and exit with status 1.
    """
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a broken pipe shows up here while it can still be handled
    except BrokenPipeError:
        _stdout_to_devnull()
        return 1


def _stdout_to_devnull():
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a stream with no descriptor
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class _Interrupted(BaseException):
    """Ctrl-C in a command. skorch takes a KeyboardInterrupt as "stop training and keep the
    model", so ``sigest fit`` would go on to save (over an earlier file) a model cut short;
    this is no KeyboardInterrupt, so it ends the command with nothing written."""


def _interrupt(signum, frame):
    raise _Interrupted


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C raises :class:`_Interrupted` inside the block (where Python's handler is set)."""
    replace = (threading.current_thread() is threading.main_thread()
               and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if replace:
        signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        if replace:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with _interruptible():
            return args.func(args) or 0
    except (_Interrupted, KeyboardInterrupt):
        print(f"sigest {args.command}: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as shells report it
    except BrokenPipeError:
        raise  # main() ends quietly
    except (ValueError, OSError) as exc:  # OSError: permission, is-a-directory, disk full, ...
        print(f"sigest {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 2


def _message(exc):
    """``exc`` for a user: "Permission denied: out.fif" rather than "[Errno 13] ..."."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
