"""`svardesk serve`: the whole product in one command — the ASGI web server (HTTP and
WebSockets), the background worker with its scheduler as a child process, each channel's
built-in server (email's SMTP receiver; a channel adds its own through the registry's
`add_serve_arguments` / `start_embedded_server`, so this command names no channel) and the
live-update relay. It lives in the workspace, above the domain apps, because it starts parts
of several of them; `core` imports none."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.conversations.registry import registered_adapters


class SocketPerProcess(list[socket.socket]):
    """The listening sockets uvicorn hands a worker process: empty here, and pickled into each
    new worker (uvicorn spawns them) as a socket bound there, on the same port as its
    siblings, with SO_REUSEPORT."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, ...]:
        return (_listen_in_this_process, (self.host, self.port))


def _listen_in_this_process(host: str, port: int) -> list[socket.socket]:
    from uvicorn.config import STARTUP_FAILURE

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on sockets that say TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sys.stderr.write(f"Cannot listen on {host}:{port}: {exc}\n")
        sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of restarting it
    return [sock]


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _die_with_parent() -> None:
    """In the worker child: ask Linux to end it when `serve` dies, however `serve` dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def web_server_config(*, host: str, port: int, log_level: str = "info", workers: int = 1) -> Any:
    """uvicorn for the ASGI app. It takes the client's address and scheme from X-Forwarded-For
    and X-Forwarded-Proto only when the connection comes from a proxy in FORWARDED_ALLOW_IPS
    (default: none), so nobody on the internet can choose the address the sign-in throttle
    counts them as. Stopping waits WEB_STOP_TIMEOUT seconds at most for requests in
    progress."""
    import uvicorn
    from django.conf import settings

    return uvicorn.Config(
        "svardesk.config.asgi:application",
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=True,
        # A list, even empty: None would fall back to uvicorn's default of 127.0.0.1.
        forwarded_allow_ips=[
            item.strip() for item in settings.FORWARDED_ALLOW_IPS.split(",") if item.strip()
        ],
        lifespan="off",
        workers=workers,
        timeout_graceful_shutdown=settings.WEB_STOP_TIMEOUT,
        # uvicorn replaces a web process that does not answer its supervisor's ping in time;
        # its 5 s replaced processes still starting on a busy machine, again and again.
        timeout_worker_healthcheck=30,
    )


def check_web_workers(workers: int) -> None:
    """More than one web process needs a channel layer they share (Redis): with the per-process
    in-memory one, a browser or chat widget connected to one process would never hear what
    happens in another."""
    from svardesk.workspace import relay

    if workers < 1:
        raise CommandError("--workers must be at least 1.")
    if workers > 1 and relay.in_memory_layer() is not None:
        raise CommandError(
            f"--workers {workers} needs REDIS_URL: the web processes share live updates and "
            "chat messages through Redis. Set REDIS_URL, or run one web process (--workers 1)."
        )


class Command(BaseCommand):
    help = "Run Svardesk: web server, background worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SVARDESK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SVARDESK_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("SVARDESK_WEB_WORKERS", "1")),
            help="Web server processes (each one Python process: use one per CPU core). More "
            "than one needs REDIS_URL, so that every process's browsers and chat widgets hear "
            "the others'.",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the background worker."
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply pending migrations first."
        )
        for adapter in registered_adapters():
            adapter.add_serve_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        workers = options["workers"]
        check_web_workers(workers)
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        worker = None
        if not options["no_worker"]:
            # The worker is the same `svardesk` entry point, so it sees the same settings. An
            # idle worker looks for new tasks every second at most (Huey's default backs off
            # to 10 s), so a new email shows within a second or two.
            worker = subprocess.Popen(
                [sys.executable, "-m", "svardesk", "run_huey", "--quiet", "--max-delay", "1"],
                env=os.environ.copy(),
                preexec_fn=_die_with_parent,
            )
        host, port = options["host"], options["port"]
        stops = self.start_embedded_servers(options, host=host)
        config = web_server_config(
            host=host,
            port=port,
            log_level=os.environ.get("SVARDESK_LOG_LEVEL", "info").lower(),
            workers=workers,
        )
        server = uvicorn.Server(config)
        # uvicorn re-raises SIGTERM after its graceful shutdown; exit through the cleanup below.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.stdout.write(f"Svardesk is running at http://{host}:{port}/  (Ctrl+C stops it)")
        try:
            if workers > 1:
                self._serve_processes(config)
            else:
                with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
                    runner.run(self._serve(server))
                if not server.started:
                    raise SystemExit(3)  # uvicorn has logged why (a port in use, say)
        except KeyboardInterrupt:
            pass
        finally:
            for stop in stops:
                stop()
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _serve_processes(self, config: Any) -> None:
        """uvicorn's supervisor: `workers` processes on one port, each replaced if it dies;
        SIGTERM or Ctrl+C stops them all. Their live updates and chat messages meet in the
        Redis channel layer (`check_web_workers`), so no relay runs here.

        On Linux each process listens on a socket of its own (SO_REUSEPORT) and the kernel
        spreads new connections over them. With one shared socket, the process that wakes
        first accepts every connection waiting — a browser's or a proxy's burst of
        keep-alive connections all went to one process while the other sat idle (4
        connections: 16 requests/s on the ticket page, as many as one connection got)."""
        from uvicorn.supervisors import Multiprocess

        sock = config.bind_socket()  # exits with 3 after logging why (a port in use, say)
        sockets: list[Any] = [sock]
        if sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT"):
            # The port is free (bound just now): each worker binds it again for itself.
            sockets = SocketPerProcess(config.host, sock.getsockname()[1])
            sock.close()
        try:
            Multiprocess(config, sockets=sockets).run()
        finally:
            sock.close()

    async def _serve(self, server: Any) -> None:
        """uvicorn on this event loop, and beside it, on the embedded default, the relay that
        passes the worker's live updates to the browsers connected here."""
        from svardesk.workspace import relay

        listener = None
        if relay.in_memory_layer() is not None:
            try:
                listener = await relay.start_listener()
            except OSError as exc:
                self.stderr.write(f"Live updates from the worker are off: {exc}")
        try:
            await server.serve()
        finally:
            if listener is not None:
                listener.close()

    def start_embedded_servers(
        self, options: dict[str, Any], *, host: str
    ) -> list[Callable[[], None]]:
        """Every registered channel's built-in server, started; how to stop each."""
        stops = []
        for adapter in registered_adapters():
            stop = adapter.start_embedded_server(
                options, host=host, say=self.stdout.write, warn=self.stderr.write
            )
            if stop is not None:
                stops.append(stop)
        return stops
