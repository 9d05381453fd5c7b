"""Helpers the tests share: code independent of the code under test (validators, toy problems)."""
