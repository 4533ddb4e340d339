"""The complaint workflow package: states and transitions, the timeline, and the operations."""
