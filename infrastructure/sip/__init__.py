"""E-ARK SIP export of the custody documentation, with PREMIS 3 events (issue 17).

``package.write_sip`` writes the package, ``verify.verify_sip`` checks one offline,
``event_types`` maps every event topic to a PREMIS event type, ``selection`` chooses
what a package describes, ``documents`` lists the documents it carries. The XML schemas
the package ships (and the checks use) are in ``schemas/``.
"""
