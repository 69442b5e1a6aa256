"""The samplelab application: the command line and the Qt desktop app.

Importing this package pulls in no Qt; only `app.main` and the pages do.
"""
