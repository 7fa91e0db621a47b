"""The desk's feed from RabbitMQ (make cluster's event broker), against the
RabbitMQ this machine runs (127.0.0.1:5672, guest/guest): events Rasa's own
PikaEventBroker publishes reach the desk's tables; a feed killed after it
projected but before its ack gets the messages again, and the replay
doubles nothing; what Rasa publishes while RabbitMQ is out of reach.
Each test has its own queue and exchange, deleted after it."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest
from rasa.core.brokers.pika import PikaEventBroker

from billing import db
from billing.models import DeskConversationEvent
from desk import projection
from sqlalchemy import func, select

BASE = 1_764_342_000.0
RABBIT = ("127.0.0.1", 5672)


def _reachable() -> bool:
    try:
        socket.create_connection(RABBIT, timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def rabbit(monkeypatch, db_url):
    if not _reachable():
        pytest.fail("RabbitMQ is not reachable at 127.0.0.1:5672 (make cluster's event broker; this machine runs it)")
    name = f"selfpay_test_{uuid.uuid4().hex[:10]}"
    settings = {"EVENT_BROKER_TYPE": "pika", "EVENT_BROKER_URL": "amqp://127.0.0.1:5672/", "EVENT_BROKER_QUEUE": name,
                "EVENT_BROKER_EXCHANGE": name, "DATABASE_URL": db_url,
                # no Rasa answers here: the feed's catch-up from the HTTP API finds nothing to add
                "RASA_URL": "http://127.0.0.1:9"}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    from kombu import Connection

    connection = Connection(projection.amqp_url())
    queue = projection.rabbit_queue(connection.default_channel)
    yield settings, queue
    queue.delete()
    queue.exchange.delete()
    connection.release()


def publish_with_rasa(bodies, queue_name, port=5672):
    """Publish as the Rasa server does: Rasa's PikaEventBroker, persistent messages."""
    async def run():
        broker = PikaEventBroker("127.0.0.1", "guest", "guest", port=port, queues=[queue_name], exchange_name=queue_name,
                                 connection_attempts=3, retry_delay_in_seconds=0.5)
        await broker.connect()
        for body in bodies:
            broker.publish(body)
        while broker._background_tasks:  # Rasa publishes from background tasks
            await asyncio.sleep(0.01)
        await broker.close()

    asyncio.run(run())


def turns(sender, n, start=0):
    return [{"sender_id": sender, "event": "user", "timestamp": BASE + start + k, "text": f"message {start + k}",
             "message_id": f"{sender}-{start + k}", "metadata": {"client": "riverside"},
             "parse_data": {"intent": {"name": "inform"}}} for k in range(n)]


def count(db_url, sender=None) -> int:
    with db.session_scope(db_url) as session:
        query = select(func.count(DeskConversationEvent.id))
        if sender:
            query = query.where(DeskConversationEvent.conversation_id == sender)
        return session.execute(query).scalar_one()


def test_a_feed_killed_before_its_ack_gets_the_messages_again_and_keeps_them_once(rabbit, db_url):
    settings, queue = rabbit
    publish_with_rasa(turns("rest-rabbit-01", 5), settings["EVENT_BROKER_QUEUE"])

    # a feed takes the batch, projects and commits it, and dies before it acknowledges
    dying = ("import os\nfrom kombu import Connection\nfrom desk import projection\n"
             "connection = Connection(projection.amqp_url())\n"
             "queue = projection.rabbit_queue(connection.default_channel)\n"
             "projection.project_messages(projection.take(queue))\n"
             "os._exit(9)\n")
    died = subprocess.run([sys.executable, "-c", dying], env={**os.environ, **settings}, cwd=projection.settings.PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stderr
    assert count(db_url, "rest-rabbit-01") == 5

    # the next feed gets the same five again (RabbitMQ marks them redelivered) and keeps them once
    messages = projection.take(queue)
    assert len(messages) == 5 and all(m.delivery_info.get("redelivered") for m in messages)
    assert projection.project_messages(messages) == 0
    for message in messages:
        message.ack()
    assert count(db_url, "rest-rabbit-01") == 5
    assert projection.rabbit_waiting() == 0


def test_the_feed_consumes_what_came_while_it_was_down(rabbit, db_url):
    settings, queue = rabbit
    publish_with_rasa(turns("rest-rabbit-02", 3), settings["EVENT_BROKER_QUEUE"])
    assert projection.rabbit_pass(queue) == 3
    # the feed is down; the conversation goes on; RabbitMQ keeps the messages (durable queue)
    publish_with_rasa(turns("rest-rabbit-02", 4, start=3) + turns("rest-rabbit-03", 2), settings["EVENT_BROKER_QUEUE"])
    assert projection.rabbit_waiting() == 6

    stop = threading.Event()
    done = threading.Event()
    feed = projection.Feed(stop, on_pass=lambda read: done.set() if projection.rabbit_waiting() == 0 and count(db_url) == 9 else None)
    runner = threading.Thread(target=feed.run, daemon=True)
    runner.start()
    assert done.wait(60), "the feed did not catch up"
    stop.set()
    runner.join(30)
    assert count(db_url, "rest-rabbit-02") == 7 and count(db_url, "rest-rabbit-03") == 2


class _Proxy:
    """A TCP relay to RabbitMQ on a port of its own that a test can cut
    (every connection closed, new ones refused) and restore: RabbitMQ out
    of reach for one client only, not for the machine."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(RABBIT)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        self.up = False
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.sockets = []

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


async def _publish_through_an_outage(proxy, name: str, conversation: str):
    """Rasa's real PikaEventBroker publishes two turns, then RabbitMQ goes out
    of reach (the relay cut) and it publishes three more; the broker and how
    many events it holds in memory."""
    broker = PikaEventBroker("127.0.0.1", "guest", "guest", port=proxy.port, queues=[name], exchange_name=name,
                             connection_attempts=3, retry_delay_in_seconds=0.5)
    await broker.connect()
    for body in turns(conversation, 2):
        broker.publish(body)
    while broker._background_tasks:
        await asyncio.sleep(0.01)
    proxy.cut()
    await asyncio.sleep(0.5)
    for body in turns(conversation, 3, start=2):  # RabbitMQ out of reach
        broker.publish(body)
    while broker._background_tasks:
        await asyncio.sleep(0.01)
    return broker, len(broker._unpublished_events)


def test_what_rasa_publishes_while_rabbitmq_is_out_of_reach(rabbit, db_url):
    """Measured, not assumed: Rasa 3.6's PikaEventBroker keeps what it could
    not publish in memory and sends it when its robust connection is back;
    what it held is lost only if the Rasa process ends first (docs/scale-out.md)."""
    settings, queue = rabbit
    proxy = _Proxy()
    name = settings["EVENT_BROKER_QUEUE"]

    async def run():
        broker, held = await _publish_through_an_outage(proxy, name, "rest-outage-01")
        proxy.restore()
        for _ in range(300):  # aio-pika's robust connection comes back (its reconnect interval is 5 s)
            await asyncio.sleep(0.1)
            if broker.is_ready() and not broker._unpublished_events and not broker._background_tasks:
                break
        await asyncio.sleep(0.5)
        await broker.close()
        return held

    held = asyncio.run(run())
    proxy.close()
    assert held == 3  # kept in the Rasa process's memory while RabbitMQ was away
    while projection.rabbit_pass(queue):
        pass
    assert count(db_url, "rest-outage-01") == 5  # and delivered once it was back: none lost


def test_what_rasa_held_is_lost_if_its_process_ends_before_rabbitmq_is_back(rabbit, db_url):
    """The limit of Rasa's in-memory keeping, measured: a publisher that
    ends while RabbitMQ is away takes what it held with it (the desk's feed
    then catches up from Rasa's HTTP API: tests/integration/test_desk_event_feed.py)."""
    settings, queue = rabbit
    proxy = _Proxy()
    name = settings["EVENT_BROKER_QUEUE"]

    async def run():
        broker, held = await _publish_through_an_outage(proxy, name, "rest-outage-02")
        # the Rasa process ends here, RabbitMQ still away (closing a connection that is away does not return)
        try:
            await asyncio.wait_for(broker.close(), 2)
        except asyncio.TimeoutError:
            pass
        return held

    held = asyncio.run(run())
    proxy.close()
    assert held == 3
    while projection.rabbit_pass(queue):
        pass
    assert count(db_url, "rest-outage-02") == 2  # the three it held never reached RabbitMQ
