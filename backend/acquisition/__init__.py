"""Acquisition signals: input waves and batch plans, the safety limits every batch
obeys, the live buffer, saturation counts."""
