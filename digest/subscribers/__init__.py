"""Subscribers: lists, subscriptions, signed tokens, suppression."""
