"""The sandbox's cheaper DynamoDB: TransactWriteItems keeps moto's all-or-nothing semantics, item reads
encoded directly answer what moto's serializer answers."""

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


def _reads(ddb):
    """One answer of each item read the fast encoding serves, over every AttributeValue kind."""
    from sandbox.extensions.dynamodb import ITEM_READS

    assert ITEM_READS == {"Query", "Scan", "GetItem", "BatchGetItem"}
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    return [
        ddb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                  ConsistentRead=True, ReturnConsumedCapacity="TOTAL"),
        ddb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                  Limit=1),  # LastEvaluatedKey
        ddb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                  Select="COUNT"),
        ddb.scan(TableName="t", ProjectionExpression="pk, m.x"),
        ddb.scan(TableName="t", FilterExpression="attribute_exists(b)"),
        ddb.get_item(TableName="t", Key=key, ReturnConsumedCapacity="TOTAL"),
        ddb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "none"}}),
        ddb.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "b"}, "sk": {"S": "2"}}]}}),
    ]


def test_item_reads_encoded_directly_answer_what_motos_serializer_answers(aws, monkeypatch):
    """The direct JSON encoding of item reads (a speed-up: moto's serializer cost a fifth of an end-to-end
    test's CPU) answers the same as moto's own serializer, for every AttributeValue kind."""
    from moto.dynamodb.responses import DynamoResult

    import sandbox.extensions.dynamodb as ext

    ddb = aws.client("dynamodb")
    _table(ddb)
    ddb.put_item(TableName="t", Item={
        "pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "bool": {"BOOL": False}, "null": {"NULL": True},
        "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]},
        "m": {"M": {"x": {"L": [{"S": "é"}, {"N": "-3"}, {"M": {}}, {"L": []}]}, "empty": {"S": ""}}}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "2"}, "b": {"B": b"\x00\xff"},
                                      "bs": {"BS": [b"\x01", b"\x02"]}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"S": "2"}, "v": {"S": "plain"}})

    direct = []
    fast_encoder = ext._dropping_none

    def counting(value):
        direct.append(1)
        return fast_encoder(value)

    monkeypatch.setattr(ext, "_dropping_none", counting)
    fast = [{k: v for k, v in r.items() if k != "ResponseMetadata"} for r in _reads(ddb)]
    assert len(direct) >= 6, "the direct encoding was not used"
    monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result.moto_original)
    moto = [{k: v for k, v in r.items() if k != "ResponseMetadata"} for r in _reads(ddb)]
    assert fast == moto
    assert fast[0]["Count"] == 2 and "LastEvaluatedKey" in fast[1] and fast[5]["Item"]["n"] == {"N": "1.50"}
