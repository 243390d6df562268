"""The health check: is DynamoDB reachable and are the platform tables there?"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from cloudkida import aws
from cloudkida.dynamo import tables


@require_GET
def healthz(request):
    """200 when every platform table answers DescribeTable, else 503 naming what failed."""
    problems = []
    for spec in tables.platform_tables():
        try:
            status = aws.client("dynamodb").describe_table(TableName=spec.name)["Table"]["TableStatus"]
            if status != "ACTIVE":
                problems.append({"table": spec.name, "status": status})
        except ClientError as error:
            problems.append({"table": spec.name, "error": error.response["Error"]["Code"]})
        except BotoCoreError as error:
            problems.append({"table": spec.name, "error": type(error).__name__})
    if problems:
        return JsonResponse(
            {"status": "unavailable", "checks": {"dynamodb": "failing"}, "problems": problems}, status=503
        )
    return JsonResponse({"status": "ok", "checks": {"dynamodb": "ok"}})
