"""The local emulator's recording keeps what changes state and nothing that only reads."""

from __future__ import annotations

import pytest

from scripts.emulator import is_read


@pytest.mark.parametrize(
    ("method", "headers", "url", "body", "read"),
    [
        ("POST", {"X-Amz-Target": "DynamoDB_20120810.GetItem"}, "/", b"{}", True),
        ("POST", {"X-Amz-Target": "DynamoDB_20120810.Query"}, "/", b"{}", True),
        ("POST", {"X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"}, "/", b"{}", False),
        ("POST", {"X-Amz-Target": "AWSCognitoIdentityProviderService.AdminGetUser"}, "/", b"{}", True),
        ("POST", {"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}, "/", b"{}", False),
        ("POST", {}, "/", b"Action=GetCallerIdentity&Version=2011-06-15", True),
        ("POST", {}, "/", b"Action=GetFederationToken&Version=2011-06-15", False),  # draws random numbers
        ("POST", {}, "/", b"Action=SendRawEmail", False),
        ("GET", {}, "/bucket/key", b"", True),
        ("PUT", {}, "/bucket/key", b"data", False),
        ("POST", {}, "/restapis/abc/stages", b"{}", False),
    ],
)
def test_reads_are_told_from_writes(method, headers, url, body, read):
    assert is_read(method, headers, url, body) is read
