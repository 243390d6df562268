"""Not collected by the suite: tests/cloudkida/test_dynamo.py runs it on purpose to see the Scan guard fail it."""

from cloudkida.dynamo import Table, tables


def test_that_scans_on_a_request_path(moto):
    table = Table(tables.control_table().name)
    table.client.scan(TableName=table.name)
