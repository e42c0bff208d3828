"""Use cases, projections and their queries, and policy (who may do what).

Imports ``domain`` and ``eventsourcing``; reaches storage, keys and signing only through
the ports in :mod:`application.ports`.
"""
