"""Integrations: signed webhooks (the recorder of ``cloudkida.events``, delivery through SQS), per-person
data rights (export and erasure of one user), SCIM, and enterprise single sign-on (``sso``: the tenant's own
identity providers on its Cognito app client; ``federation``: the Cognito triggers of a federated sign-in).

They live inside accounts because they build on its people and its portal (``portal_page``, the route-role
matrix) and the top-level apps are fixed; labs (above accounts) only emits events through the core's
``cloudkida.events`` and registers its personal data with ``data_rights``, so nothing here imports labs.
"""
