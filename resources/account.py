"""`${AWS::AccountId}` in IAM and SNS policy documents (as resources/kms.py does for key policies).

A plan is written before anyone knows which account it lands in, yet a trust or topic policy must
pin that account (aws:SourceAccount, sts:ExternalId: the confused-deputy guard). The placeholder is
replaced by the account id when the document is sent; read() puts it back only where the plan wrote
it (a declared string whose rendering equals what AWS holds), so an ARN that merely contains the
account id, resolved from another resource, reads as AWS returns it and the policy diffs cleanly.
"""

from __future__ import annotations

from typing import Any

ACCOUNT_PLACEHOLDER = "${AWS::AccountId}"


def substitute(doc: Any, old: str, new: str) -> Any:
    """`doc` with every `old` in its strings replaced by `new`, however deeply nested: the one walk
    behind each placeholder of a policy document (this account's, KMS key policies', a bucket's own ARN)."""
    if isinstance(doc, str):
        return doc.replace(old, new)
    if isinstance(doc, dict):
        return {k: substitute(v, old, new) for k, v in doc.items()}
    if isinstance(doc, list):
        return [substitute(v, old, new) for v in doc]
    return doc


def render(doc: Any, account_id: str) -> Any:
    """`doc` with the placeholder replaced by the account id, however deeply nested."""
    return substitute(doc, ACCOUNT_PLACEHOLDER, account_id)


def as_declared(declared: Any, seen: Any, account_id: str) -> Any:
    """What AWS holds, with the declared placeholder strings put back where they render to it."""
    if isinstance(declared, str) and isinstance(seen, str):
        return declared if ACCOUNT_PLACEHOLDER in declared and render(declared, account_id) == seen else seen
    if isinstance(declared, dict) and isinstance(seen, dict):
        return {k: as_declared(declared.get(k), v, account_id) for k, v in seen.items()}
    if isinstance(declared, list) and isinstance(seen, list) and len(declared) == len(seen):
        return [as_declared(d, v, account_id) for d, v in zip(declared, seen, strict=True)]
    if isinstance(declared, list) and len(declared) == 1 and isinstance(seen, str):
        return as_declared(declared[0], seen, account_id)  # AWS turns a one-item list into its item
    return seen
