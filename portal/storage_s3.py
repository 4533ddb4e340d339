"""S3 storage (any S3-compatible endpoint). The only module that imports boto3."""

from __future__ import annotations

import io
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .storage import SAFE_TYPE, StorageError, StorageUnavailable, attachment_disposition, check_key


class S3Storage:
    def __init__(self, client, bucket: str):
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_config(cls, config) -> S3Storage:
        client = boto3.client(
            "s3",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region_name=config.get("S3_REGION") or "us-east-1",
            aws_access_key_id=config.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=config.get("AWS_SECRET_ACCESS_KEY"),
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30,
                          signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        return cls(client, config["S3_BUCKET"])

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data``; raises StorageUnavailable when the endpoint does not answer or
        fails (after botocore's own retries), so nothing is mistaken for stored."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data,
                                   ContentType=content_type)
        except BotoCoreError as exc:  # connection refused, timeouts, DNS
            raise StorageUnavailable(f"S3 did not answer: {exc}") from exc
        except ClientError as exc:
            raise StorageUnavailable(f"S3 refused {key}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.read(key))

    def read(self, key: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            raise StorageError(f"missing: {key}") from exc
        return obj["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def list(self, prefix: str):
        """Keys under ``prefix`` with their LastModified times, page by page."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"], obj["LastModified"]

    def download_url(self, key: str, filename: str | None = None, expires: int = 300,
                     content_type: str = SAFE_TYPE, inline: bool = False) -> str:
        """A short-lived URL that makes S3 answer as the app does for local files: as an
        attachment of ``content_type`` (never the type the uploader declared). ``inline``
        only for bytes the app produced itself (processed photos: JPEG it encoded)."""
        disposition = attachment_disposition(filename or key.rsplit("/", 1)[-1])
        if inline:
            disposition = "inline" + disposition[len("attachment"):]
        params = {"Bucket": self.bucket, "Key": check_key(key),
                  "ResponseContentDisposition": disposition, "ResponseContentType": content_type}
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)
