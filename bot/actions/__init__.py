"""Custom actions: thin translations between the conversation and the
billing core.  They decide nothing the billing core owns."""
