"""Rasa input channels for patients: Twilio SMS, Twilio voice and web chat.

Each channel checks the request, finds the client by the number the
patient reached, redacts card numbers before Rasa sees the text, and
renders replies for its medium.  Until they land, patients and
integrations reach the assistant through Rasa's REST channel.
"""
