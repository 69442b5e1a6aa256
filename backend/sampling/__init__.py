"""The sampling session (plan -> device -> recording, pause, cancel, resume) and the
device self-test."""
