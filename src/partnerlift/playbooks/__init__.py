"""playbooks layer."""
