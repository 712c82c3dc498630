"""The poll loops of a worker: decision tasks and activity tasks."""
