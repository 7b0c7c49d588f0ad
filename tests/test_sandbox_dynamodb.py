"""The sandbox's cheaper TransactWriteItems keeps moto's all-or-nothing semantics."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _table(ddb):
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])


def _all(ddb):
    return sorted((i["pk"]["S"], i["sk"]["S"], i.get("v", {}).get("S")) for i in ddb.scan(TableName="t")["Items"])


def test_a_failed_transaction_changes_nothing_in_any_partition(aws):
    ddb = aws.client("dynamodb")
    _table(ddb)
    for pk in ("a", "b"):
        for sk in ("1", "2"):
            ddb.put_item(TableName="t", Item={"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": "old"}})
    before = _all(ddb)
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "new"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}, "v": {"S": "new"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "2"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}},
                        "UpdateExpression": "SET v = :n", "ConditionExpression": "v = :x",
                        "ExpressionAttributeValues": {":n": {"S": "new"}, ":x": {"S": "not-this"}}}},
        ])
    assert exc.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _all(ddb) == before
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "new"}}}},
        {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "2"}}}},
    ])
    assert _all(ddb) == [("a", "1", "new"), ("a", "2", "old"), ("b", "1", "old")]
