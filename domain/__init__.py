"""The custody domain: aggregates, events, invariants and value objects.

Pure Python plus ``eventsourcing.domain``; imports nothing from the other layers.
"""
