"""delab.services.kafka: the in-process mock cluster, topics, consumer groups, KAFKA_BOOTSTRAP_SERVERS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from delab.services import ServiceError
from delab.services import kafka as kafka_module
from delab.services.kafka import MOCK_GROUP, Kafka, kafka


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kafka]:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    cluster = kafka()
    yield cluster
    cluster.stop()


def read_all(broker: Kafka, topic: str, group: str, commit: bool = True) -> list[tuple[int, int, bytes]]:
    """(partition, offset, value) of every message the group has not committed yet."""
    consumer = Consumer(broker.config(group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
                                      enable_partition_eof=True))
    consumer.subscribe([topic])
    seen, done = [], set()
    try:
        while not consumer.assignment() or done != {p.partition for p in consumer.assignment()}:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF
                done.add(msg.partition())
                continue
            seen.append((msg.partition(), msg.offset(), msg.value()))
        if commit and seen:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return seen


def test_topics_keys_and_committed_offsets(broker: Kafka) -> None:
    assert broker.local and len(broker.bootstrap_servers.split(",")) == 3
    broker.create_topic("trips", partitions=6)
    producer = Producer(broker.config())
    for i in range(60):
        producer.produce("trips", key=f"city-{i % 5}", value=str(i).encode())
    assert producer.flush(10) == 0
    assert len(producer.list_topics("trips", timeout=10).topics["trips"].partitions) == 6
    first = read_all(broker, "trips", "loader", commit=False)      # crash before commit
    again = read_all(broker, "trips", "loader")                    # at-least-once: all again
    after = read_all(broker, "trips", "loader")                    # committed: nothing left
    assert len(first) == len(again) == 60 and after == []
    by_key: dict[bytes, set[int]] = {}
    for partition, _, value in again:
        by_key.setdefault(str(int(value) % 5).encode(), set()).add(partition)
    assert all(len(parts) == 1 for parts in by_key.values()), "one key, one partition"
    assert len(read_all(broker, "trips", "other-group")) == 60, "each group has its own offsets"
    assert broker.config(group_id="g")["session.timeout.ms"] == MOCK_GROUP["session.timeout.ms"]


def test_stop_twice_and_bad_input(broker: Kafka) -> None:
    with pytest.raises(ValueError):
        broker.create_topic("x", partitions=0)
    broker.stop()
    broker.stop()
    with pytest.raises(ValueError, match="brokers"):
        kafka(brokers=0)


def test_fallback_cluster_hosted_by_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)

    def unavailable(brokers: int) -> None:
        raise OSError("no mock API")

    monkeypatch.setattr(kafka_module, "_CtypesCluster", unavailable)
    with kafka(brokers=1) as broker:
        assert broker.local and broker.bootstrap_servers.count(":") == 1
        broker.create_topic("events")
        producer = Producer(broker.config())
        producer.produce("events", value=b"x")
        assert producer.flush(10) == 0


def test_environment_points_at_a_real_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-1:9092,broker-2:9092")
    broker = kafka()
    assert not broker.local and broker.config(group_id="g") == {
        "bootstrap.servers": "broker-1:9092,broker-2:9092", "log_level": 3, "group.id": "g"}
    broker.stop()  # nothing to stop
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-1")
    with pytest.raises(ServiceError, match="host:port"):
        kafka()
