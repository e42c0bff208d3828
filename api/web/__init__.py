"""The web interface (Swedish first, English as a switch), served by the same app.

URLs are Swedish, like the UI's first language; ``?lang=en`` switches to English and is
remembered in a cookie. Reading pages are GETs; every change is a POST form carrying a
CSRF token (see :mod:`api.web.session`), answered with a redirect to the page that shows
the result (``?klart=`` names what was done) or, when input is wrong, with the same form
and a message next to the field. Who may see and do what is decided by the application;
its refusals become error pages in :class:`api.web.rendering.WebRoute`.

The pages are split by concern, like :mod:`api.routes`; what they share (the signed-in
principal, the CSRF dependency) is :mod:`api.web.deps`.

| module | URLs | what |
| --- | --- | --- |
| ``signin_pages`` | ``/``, ``/login``, ``/logout`` | start page per role; staff token sign-in |
| ``signin`` | ``/login/oidc`` | sign-in with the identity provider |
| ``overview`` | ``/oversikt`` | migration progress per school unit; readiness |
| ``students`` | ``POST /elev`` | find a student's record by personnummer |
| ``lists`` | ``/elev``, ``/bestallningar``, ``/arkiv/hyllforteckning``, ``/gallring`` | lists |
| ``work`` | ``/post/{id}`` | a record and its lifecycle forms |
| ``orders`` | ``/bestall``, ``/inkorg`` | order a document; decide, hand out, take back, receive |
| ``labels`` | ``/arkiv/hyllforteckning/etiketter`` | box labels |
| ``culls`` | ``/gallring/{id}`` | a culling certificate (printable, downloadable) |
| ``audit`` | ``/granskning``, ``/logg/{seq}`` | checkpoint, verification, export; proofs |
| ``inventory`` | ``/inventering`` | upload the Unikum inventory; per-row errors |
| ``sessions`` | ``/arkiv/kartong``, ``/arkiv/kontroll``, ``/lasar``, … | archive work sessions |
| ``admin``, ``assignments`` | ``/personal``, ``/personal/kopplingar`` | staff, tokens, links |
| ``static_files`` | ``/static/{name}`` | style sheet, scripts |

The menu each role sees is :mod:`api.web.navigation` (it asks :mod:`application.policy`).
"""
