"""Where the state of what exists lives: DynamoDB, with a fenced lease lock."""

from state.dynamodb import DEFAULT_TABLE, DynamoStateStore, Record

__all__ = ["DEFAULT_TABLE", "DynamoStateStore", "Record"]
