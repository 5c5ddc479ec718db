"""SNS Publish and GetTopicAttributes in the simulator through the real boto3 client (conformance to
botocore's output shapes, the errors SNS answers), topics from a scenario and from the control API,
messages read back through the control API, and ``SnsGateway``'s error mapping."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from drs_desktop.aws.session import AwsTarget
from drs_desktop.aws.sns import SnsGateway
from drs_desktop.domain.drs.errors import DrsAccessDenied, DrsNotFound, DrsThrottled
from drs_desktop.simulator.conformance import validate_sns_output
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario

OTHER = "999999999999"


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=1) as simulator:
        yield simulator


def topic(sim: EmbeddedSimulator, name: str = "drs-alerts") -> str:
    return f"arn:aws:sns:{sim.region}:{sim.account_id}:{name}"


def control(sim: EmbeddedSimulator, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{sim.endpoint_url}/_sim/{path}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def test_publish_conforms_and_is_read_back_through_the_control_api(sim: EmbeddedSimulator) -> None:
    arn = topic(sim)
    control(sim, "sns/topics", {"arn": arn})
    sns = boto3.client("sns", **sim.client_kwargs())
    answer = sns.publish(
        TopicArn=arn,
        Message="Shop: drill failed\n\nwave App",
        Subject="Shop: drill failed",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "run-failed"}},
    )
    assert validate_sns_output("Publish", {k: v for k, v in answer.items() if k != "ResponseMetadata"}) == []
    (message,) = control(sim, "sns")["messages"]
    assert message["message_id"] == answer["MessageId"]
    assert message["topic_arn"] == arn
    assert message["message"] == "Shop: drill failed\n\nwave App"
    assert message["subject"] == "Shop: drill failed"
    assert message["attributes"] == {"kind": {"DataType": "String", "StringValue": "run-failed"}}
    attributes = sns.get_topic_attributes(TopicArn=arn)
    assert validate_sns_output("GetTopicAttributes", {"Attributes": attributes["Attributes"]}) == []
    assert attributes["Attributes"]["Owner"] == sim.account_id
    assert attributes["Attributes"]["TopicArn"] == arn


def test_unknown_topic_is_not_found_404(sim: EmbeddedSimulator) -> None:
    sns = boto3.client("sns", **sim.client_kwargs())
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic(sim, "nobody"), Message="x")
    assert caught.value.response["Error"]["Code"] == "NotFound"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert sim.sns.published() == []


def test_another_accounts_topic_needs_its_policy(sim: EmbeddedSimulator) -> None:
    closed = f"arn:aws:sns:{sim.region}:{OTHER}:closed"
    shared = f"arn:aws:sns:{sim.region}:{OTHER}:shared"
    sim.sns.add_topic(closed)
    sim.sns.add_topic(shared, publishers=[sim.account_id])
    sns = boto3.client("sns", **sim.client_kwargs())
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=closed, Message="x")
    assert caught.value.response["Error"]["Code"] == "AuthorizationError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sns.publish(TopicArn=shared, Message="y")
    assert [m.message for m in sim.sns.published()] == ["y"]


def test_missing_message_and_unknown_operation(sim: EmbeddedSimulator) -> None:
    sim.sns.add_topic(topic(sim))
    sns = boto3.client("sns", **sim.client_kwargs())
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic(sim), Message="")
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as other:
        sns.list_topics()
    assert other.value.response["Error"]["Code"] == "InvalidAction"


def test_topics_from_a_scenario() -> None:
    scenario = {"sns": {"topics": [{"name": "dr-alerts", "publishers": [OTHER], "display_name": "DR"}]}}
    with EmbeddedSimulator(scenario, seed=1) as sim:
        (listed,) = control(sim, "sns")["topics"]
        assert listed == {
            "arn": f"arn:aws:sns:{sim.region}:{sim.account_id}:dr-alerts",
            "publishers": [OTHER],
            "display_name": "DR",
        }
    with pytest.raises(ScenarioError, match=r"sns.topics\[0\].publishers\[0\]"):
        load_scenario({"sns": {"topics": [{"name": "t", "publishers": ["12"]}]}})
    with pytest.raises(ScenarioError, match="unknown key"):
        load_scenario({"sns": {"topics": [{"name": "t", "colour": "red"}]}})


def test_control_api_refuses_a_bad_topic(sim: EmbeddedSimulator) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        control(sim, "sns/topics", {"arn": "not-an-arn"})
    assert caught.value.code == 400


def gateway(sim: EmbeddedSimulator) -> SnsGateway:
    return SnsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))


def test_gateway_publishes_and_checks(sim: EmbeddedSimulator) -> None:
    arn = topic(sim)
    sim.sns.add_topic(arn)
    sns = gateway(sim)
    try:
        message_id = sns.publish(arn, "body", subject="a\nsubject " + "x" * 200, attributes={"kind": "test"})
        assert sns.check_topic(arn) == sim.account_id
    finally:
        sns.close()
    (sent,) = sim.sns.published()
    assert sent.message_id == message_id
    assert sent.subject is not None and len(sent.subject) == 100 and "\n" not in sent.subject
    assert sent.attributes == {"kind": {"DataType": "String", "StringValue": "test"}}


def test_gateway_errors_say_what_to_do(sim: EmbeddedSimulator) -> None:
    closed = f"arn:aws:sns:{sim.region}:{OTHER}:closed"
    sim.sns.add_topic(closed)
    sim.sns.add_topic(topic(sim))
    sns = gateway(sim)
    try:
        with pytest.raises(DrsNotFound, match="does not exist"):
            sns.publish(topic(sim, "nobody"), "x", subject="s")
        with pytest.raises(DrsNotFound):
            sns.check_topic(topic(sim, "nobody"))
        with pytest.raises(DrsAccessDenied, match="no permission to publish"):
            sns.publish(closed, "x", subject="s")
        sim.faults.throttle("sns:Publish", rate=1.0)
        with pytest.raises(DrsThrottled, match="throttled"):
            sns.publish(topic(sim), "x", subject="s")
    finally:
        sns.close()
    assert sim.sns.published() == []
