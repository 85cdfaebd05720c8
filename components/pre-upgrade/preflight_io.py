"""What the pre-upgrade scripts share: where their documents go, one log format, paging.

A document goes to a local path (tests, the rehearsal) or to `s3://<bucket>/<key>` (the Jobs, with
their IRSA role; the bucket encrypts with its own KMS key). The last stdout line of each script is
`<PREFIX> <json>`, so the deploy log and `kubectl logs` show the result without reading S3.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List


def log(tag: str, msg: str) -> None:
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


def all_pages(list_method: Callable[..., Any], **kwargs: Any) -> List[Any]:
    items: List[Any] = []
    page = 1
    while True:
        result = list_method(page=page, size=100, **kwargs)
        items.extend(result.items)
        if page >= result.total_pages:
            return items
        page += 1


def split_s3(uri: str) -> tuple:
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ValueError(f"{uri} is not s3://<bucket>/<key>")
    return bucket, key


def with_retries(what: str, fn: Callable[[], Any], attempts: int = 6, first_wait: float = 2.0) -> Any:
    """IAM needs seconds to accept a role created in the same update: retry before giving up."""
    wait = first_wait
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as e:  # botocore raises many kinds; the last one is re-raised
            if attempt == attempts:
                raise
            log("preflight", f"{what} failed ({type(e).__name__}: {str(e)[:160]}); retrying in {wait:.0f}s")
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


def write_document(dest: str, doc: Dict[str, Any]) -> None:
    body = json.dumps(doc, indent=2, sort_keys=True, default=str)
    if dest.startswith("s3://"):
        import boto3  # the server image has it (the AWS service connector needs it)

        bucket, key = split_s3(dest)
        s3 = boto3.client("s3")
        with_retries(f"writing {dest}", lambda: s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json"))
    else:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_text(body)


def read_document(src: str) -> Dict[str, Any]:
    if src.startswith("s3://"):
        import boto3

        bucket, key = split_s3(src)
        s3 = boto3.client("s3")
        return json.loads(with_retries(f"reading {src}", lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    return json.loads(Path(src).read_text())


def result_line(prefix: str, summary: Dict[str, Any]) -> None:
    print(f"{prefix} {json.dumps(summary, sort_keys=True, default=str)}", flush=True)
