"""Issue 13 D6 on glue.Crawler, on the strict sandbox: an update that meets a running crawl waits for it to
finish instead of failing with CrawlerRunningException; the change is read back through boto3."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto.moto_api import state_manager

from resources.glue import Crawler
from tests.test_glue import _crawler


@pytest.fixture
def slow_crawl():
    """A crawl stays RUNNING for a moment (moto's state manager), then COMPLETED: long enough for the
    update below to meet it, as an apply can meet the nightly crawl on AWS."""
    state_manager.set_transition("glue::crawl", {"progression": "time", "seconds": 0.5})
    yield
    state_manager.unset_transition("glue::crawl")


def test_d6_update_waits_out_a_running_crawl(aws, slow_crawl):
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "lake"})
    cr = Crawler("crawler", **_crawler(f"arn:aws:iam::{aws.clients.account_id}:role/r", "lake"))
    cr.stack = "analytics"
    ctx = aws.ctx("crawler", stack="analytics")
    name, out = cr.create(ctx, dict(cr.properties))
    glue.start_crawler(Name=name)  # the nightly schedule fired
    new = dict(cr.properties, Targets={"S3Targets": [{"Path": "s3://lake/v2/", "Exclusions": []}]})
    with pytest.raises(ClientError, match="CrawlerRunningException"):  # what AWS answers a plain update now
        glue.update_crawler(Name=name, Targets=new["Targets"])
    cr.update(ctx, name, dict(cr.properties), new)
    c = glue.get_crawler(Name=name)["Crawler"]
    assert c["State"] == "READY" and c["Targets"]["S3Targets"][0]["Path"] == "s3://lake/v2/"
    assert cr.outputs_of(ctx, name)["Arn"] == out["Arn"]
    assert c["LastCrawl"]["Status"] not in ("CANCELLED", "STOPPED")  # the crawl was left to finish
