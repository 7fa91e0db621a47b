"""Patient-accounts core of the self-pay assistant.

Nothing here imports Rasa, the connectors or the desk: those call into
this package through one service function per use case.
"""
