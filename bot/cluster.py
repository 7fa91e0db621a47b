"""`make cluster`: the production shape (DESIGN.md, Scale-out;
docs/scale-out.md says which process needs which URL).

PostgreSQL for the billing database and the tracker store, the Redis lock
store, ``RASA_INSTANCES`` Rasa servers and as many action servers, HAProxy
in front of both (ops/haproxy.cfg: the assistant on ``RASA_PORT``, sticky
per conversation; the action servers on ``ACTIONS_PORT``), the desk, and
the Celery worker and beat on Redis, all under the supervisor
(selfpay/supervisor.py) with their pids in ``var/run/<name>.pid``.  Every
URL comes from the settings (``selfpay.settings.environment(cluster=True)``:
the environment's value, else make cluster's, else make run's), and
``CLUSTER_PROCESSES`` says which of the programs this machine runs, so the
same shape spans several machines.

Usage: python -m bot.cluster            prepare (databases, schema, demo data) and run
       python -m bot.cluster --reset    drop the cluster's databases and Redis keys, then prepare a fresh demo
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bot import serve
from bot.train import model_path
from selfpay.settings import ACTIONS_PORT, DESK_PORT, PROJECT_ROOT, RASA_PORT, VAR, environment
from selfpay.supervisor import Program, Supervisor

KINDS = ("rasa", "actions", "haproxy", "desk", "event-feed", "worker", "beat")
HAPROXY_TEMPLATE = PROJECT_ROOT / "ops" / "haproxy.cfg"
CLUSTER_VAR = VAR / "cluster"


def instance_port(base: int, instance: int) -> int:
    """rasa-1 listens on RASA_PORT + 1, actions-1 on ACTIONS_PORT + 1, ...:
    the base ports are HAProxy's."""
    return base + instance


def instances(env: dict) -> int:
    count = int(env["RASA_INSTANCES"])
    if count < 1:
        raise SystemExit(f"RASA_INSTANCES must be 1 or more, not {count}")
    return count


def kinds(env: dict) -> list[str]:
    wanted = [k.strip() for k in env["CLUSTER_PROCESSES"].split(",") if k.strip()]
    unknown = sorted(set(wanted) - set(KINDS))
    if unknown:
        raise SystemExit(f"CLUSTER_PROCESSES names {', '.join(unknown)}: the kinds are {', '.join(KINDS)}")
    return wanted


def servers(listed: str, base: int, count: int) -> list[str]:
    """host:port of each server HAProxy sends to: CLUSTER_*_SERVERS, else this machine's own."""
    given = [s.strip() for s in listed.split(",") if s.strip()]
    return given or [f"127.0.0.1:{instance_port(base, i)}" for i in range(1, count + 1)]


def haproxy_config(env: dict, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT,
                   stats_socket: Path | None = None) -> str:
    count = instances(env)

    def lines(prefix: str, addresses: list[str]) -> str:
        return "\n".join(f"    server {prefix}-{n} {address}" for n, address in enumerate(addresses, 1))

    values = {
        "bind": env["CLUSTER_BIND"],
        "assistant_port": str(rasa_port),
        "actions_port": str(actions_port),
        "rasa_servers": lines("rasa", servers(env["CLUSTER_RASA_SERVERS"], rasa_port, count)),
        "actions_servers": lines("actions", servers(env["CLUSTER_ACTIONS_SERVERS"], actions_port, count)),
        "stats_socket": str(stats_socket or CLUSTER_VAR / "haproxy.sock"),
    }
    text = HAPROXY_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def serving(stats_socket: Path, backend: str = "rasa") -> set[str]:
    """The servers of ``backend`` HAProxy sends to now (its stats socket's ``show stat``)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(2)
        conn.connect(str(stats_socket))
        conn.sendall(b"show stat\n")
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    rows = [line.split(",") for line in raw.decode(errors="replace").splitlines() if line and not line.startswith("#")]
    # pxname, svname, ..., status is the 18th column
    return {row[1] for row in rows if len(row) > 17 and row[0] == backend and row[1] not in ("FRONTEND", "BACKEND")
            and row[17].startswith("UP")}


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise SystemExit("HAProxy is not installed: scripts/setup-haproxy.sh installs Debian's haproxy package")
    return found


def programs(model: str, env: dict, config: Path, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT,
             desk_port: int = DESK_PORT) -> list[Program]:
    """The cluster's programs on this machine, one line a kind."""
    env = serve.process_environment(env)
    count, bind, python = instances(env), env["CLUSTER_BIND"], sys.executable
    # every Rasa server reaches the action servers through HAProxy (ACTION_ENDPOINT_URL: any live one)
    rasa_env = env
    actions_env = {**env, "ACTIONS_HOST": bind}
    by_kind = {
        "rasa": [Program(f"rasa-{i}", serve.rasa_command(model, env, instance_port(rasa_port, i), bind), rasa_env, PROJECT_ROOT)
                 for i in range(1, count + 1)],
        "actions": [Program(f"actions-{i}", [python, "-m", "bot.action_server", "--port", str(instance_port(actions_port, i))],
                            actions_env, PROJECT_ROOT) for i in range(1, count + 1)],
        "haproxy": [Program("haproxy", [haproxy_binary(), "-db", "-f", str(config)], env, PROJECT_ROOT)],
        "desk": [Program("desk", [python, "-m", "desk", "--port", str(desk_port), "--host", bind], env, PROJECT_ROOT)],
        # one consumer of RabbitMQ's queue feeds the desk's tables (docs/scale-out.md, the event broker)
        "event-feed": [Program("event-feed", [python, "-m", "desk.projection"], env, PROJECT_ROOT)],
        **{name: [Program(name, command, env, PROJECT_ROOT)] for name, command in serve.outreach_commands().items()},
    }
    return [program for kind in kinds(env) for program in by_kind[kind]]


def checks(env: dict, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT, desk_port: int = DESK_PORT) -> list[str]:
    """What answers when this machine's part of the cluster is up."""
    wanted, count = kinds(env), instances(env)
    urls = []
    if "actions" in wanted:
        urls += [f"http://127.0.0.1:{instance_port(actions_port, i)}/health" for i in range(1, count + 1)]
    if "rasa" in wanted:
        urls += [f"http://127.0.0.1:{instance_port(rasa_port, i)}/status?token={env['RASA_TOKEN']}" for i in range(1, count + 1)]
    if "desk" in wanted:
        urls.append(f"http://127.0.0.1:{desk_port}/health")
    if "haproxy" in wanted:
        urls.append(f"http://127.0.0.1:{rasa_port}/haproxy/health")
        if "rasa" in wanted:
            urls.append(f"http://127.0.0.1:{rasa_port}/")  # through HAProxy to a Rasa server
        if "actions" in wanted:
            urls.append(f"http://127.0.0.1:{actions_port}/health")
    return urls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reset", action="store_true", help="drop the cluster's databases and Redis keys, then a fresh demo")
    args = parser.parse_args(argv)
    from bot import cluster_stores

    env = environment(cluster=True)
    if args.reset:
        running = cluster_stores.running_programs(VAR / "run")
        if running:
            print(f"the cluster is running ({', '.join(running)}): stop it (Ctrl-C) before make cluster-reset", file=sys.stderr)
            return 1
        cluster_stores.reset(env)
        cluster_stores.prepare(env)
        print("a fresh demo: the cluster's databases and Redis keys were dropped and the demo data loaded; `make cluster` starts it")
        return 0
    model = model_path()
    if not model.exists():
        print(f"no trained model at {model}; run `make train` first", file=sys.stderr)
        return 1
    cluster_stores.prepare(env)
    CLUSTER_VAR.mkdir(parents=True, exist_ok=True)
    Path(env["OUTREACH_BROKER_FOLDER"]).mkdir(parents=True, exist_ok=True)  # beat's schedule file
    config = CLUSTER_VAR / "haproxy.cfg"
    config.write_text(haproxy_config(env))
    log_dir = VAR / "log"
    supervisor = Supervisor(programs(str(model), env, config), log_dir=log_dir, run_dir=VAR / "run", echo=True)
    count = instances(env)
    banner = (
        f"  assistant (HAProxy, sticky per conversation): http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook\n"
        f"  Rasa servers:      {', '.join(servers(env['CLUSTER_RASA_SERVERS'], RASA_PORT, count))}\n"
        f"  action servers:    {', '.join(servers(env['CLUSTER_ACTIONS_SERVERS'], ACTIONS_PORT, count))} "
        f"(through HAProxy on {ACTIONS_PORT})\n"
        f"  partner desk:      {env['DESK_PUBLIC_URL']}/desk/ (demo users alex / alex-demo-pass, sam / sam-demo-pass)\n"
        f"  billing database:  {cluster_stores.shown(env['DATABASE_URL'])}; tracker store: {cluster_stores.shown(env['TRACKER_STORE_URL'])}\n"
        f"  lock store:        redis://{env['LOCK_STORE_HOST']}:{env['LOCK_STORE_PORT']}/{env['LOCK_STORE_DB']}; "
        f"outreach broker: {cluster_stores.shown(env['OUTREACH_BROKER_URL'])}\n"
        f"  logs:              {log_dir} (haproxy.log names the Rasa server of every request), pids in {VAR / 'run'}"
    )
    return serve.supervise(supervisor, checks(env), banner, log_dir, seconds=600)


if __name__ == "__main__":
    sys.exit(main())
