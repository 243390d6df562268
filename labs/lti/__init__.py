"""LTI 1.3: CloudKida as the tool of a tenant's learning platform (Canvas, Moodle, Blackboard, ...).

It lives in labs because a launch lands on a lab, deep linking places labs in a course and grades come
from labs' task checks; labs may import accounts (users, groups, the portal session) but not the reverse.
pylti1p3 does the protocol (OIDC login initiation, id_token validation, deep-linking JWT, AGS), with its
tool configuration read from our repository (``tool.RepoToolConf``) and its state in DynamoDB
(``tool.DynamoLaunchDataStorage``), so it works across Lambda instances.
"""
