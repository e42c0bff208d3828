"""Kept only so that web modules written against the old name still import: the pages
that were here are split by concern (see :mod:`api.web`) and what they share is
:mod:`api.web.deps`. New code imports :mod:`api.web.deps`; delete this module once nothing
imports it."""

from __future__ import annotations

from api.web.deps import CSRF, DONE, Errors, WebUser, done_message, personnummer_error, signed_in

__all__ = ["CSRF", "DONE", "Errors", "WebUser", "done_message", "personnummer_error", "signed_in"]
