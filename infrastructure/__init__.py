"""Infrastructure: settings, persistence wiring, signing and key management, the
transparency log, crypto-shredding keys and exports. Implements the application's
ports; never imports ``api``.
"""
