"""`creative-painting studio`: the paper's workflow in a web page, with a durable job queue.

Example: creative-painting studio --model out/tiny/tiny.safetensors --data studio-data
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path

from creative_painting.errors import UserError

AUTH_ENV = "CREATIVE_PAINTING_AUTH"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def register(sub: argparse._SubParsersAction) -> None:
    from creative_painting.models.choice import add_model_flags

    p = sub.add_parser("studio", help="web studio: topic, extensions, artists, grids, queue, gallery, PNG info",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("studio-data"),
                   help="folder for the job queue and every run (default studio-data/)")
    add_model_flags(p, model_note=", loaded once at start")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (anything but localhost needs --auth)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument("--auth", help=f"USER:PASS for the page and API (or the {AUTH_ENV} environment variable)")
    p.set_defaults(run=run)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise UserError("--auth must be USER:PASS, both non-empty")
    return user, password


def check_binding(host: str, port: int, auth: tuple[str, str] | None) -> str:
    """Refuse what cannot or should not be served, before anything loads; returns the host as Gradio takes it
    (an IPv6 literal in brackets: "[::1]")."""
    if not 1 <= port <= 65535:
        raise UserError(f"--port must be in 1..65535, got {port}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    local = bare in LOCAL_HOSTS or (address is not None and address.is_loopback)
    if not local and auth is None:
        raise UserError(f"binding {host} lets other machines in: give --auth USER:PASS (or set {AUTH_ENV})")
    _try_bind(bare, port)
    return f"[{bare}]" if address is not None and address.version == 6 else bare


def _try_bind(host: str, port: int) -> None:
    """Bind and release the address now: a typo or a busy port is one line, not a server's traceback."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as e:
        raise UserError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None


def run(args: argparse.Namespace) -> int:
    from creative_painting.models.choice import model_choice
    from creative_painting.models.configs import TINY
    from creative_painting.studio.service import TINY_NOTE, Studio

    auth = parse_auth(args.auth if args.auth is not None else os.environ.get(AUTH_ENV))
    host = check_binding(args.host, args.port, auth)
    studio = Studio(args.data)  # claims and locks the data folder before the slow parts
    try:
        from creative_painting.experiment.first_run import resolve

        choice, demo = resolve(model_choice(args).validate())  # `--model demo`: trained first if missing
        from creative_painting.models import load

        studio.model = load(choice)
        if choice.model == TINY:
            studio.model_note = TINY_NOTE
        if demo:
            studio.model_note, studio.artists, studio.size = demo.note, demo.artists(), demo.size
        os.environ.setdefault("GRADIO_TEMP_DIR", str(studio.cache))
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        from creative_painting.studio.ui import launch

        studio.start()
        print(f"studio: open http://{host}:{args.port} (data {studio.data}, model {studio.model.source}; "
              f"{len(studio.recovered)} interrupted job(s) queued again)", flush=True)
        launch(studio, host=host, port=args.port, auth=auth, quiet=True)  # Gradio's own lines advertise share=True
    finally:
        studio.close()
    return 0
